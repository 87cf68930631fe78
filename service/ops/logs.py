"""Structured logs: one JSON object per line on stderr (or plain text), under the
`clustermatch` logger."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger("clustermatch")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


SECRET_PATH_PARAMS = frozenset({"token"})
"""Path parameters that carry a secret (one-time password links): never logged or
audited as sent."""
REDACTED = "[redacted]"


def redacted_path(scope: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The request's path and path parameters with every secret parameter replaced by
    `[redacted]` (the route template filled in), for logs and the audit log."""
    params = {
        k: (REDACTED if k in SECRET_PATH_PARAMS else str(v))
        for k, v in (scope.get("path_params") or {}).items()
    }
    path: str = scope.get("path", "")
    template = getattr(scope.get("route"), "path", None)
    if any(k in SECRET_PATH_PARAMS for k in params):
        path = template.format(**params) if template else REDACTED
    return path, params
