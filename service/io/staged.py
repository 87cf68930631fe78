"""Uploaded files held between an import's preview and its confirmation, on the server.

The console's import shows a preview of a file before anything is written; the file's
bytes stay here (never in the page), under a random token, bound to the owner that
staged them (the console passes a digest of the signed-in session's secret, so the token
is worthless in another session or after sign-out) and kept `ttl_s` seconds. Files are
written with mode 0600 in `root`; expired ones are swept whenever a file is staged.

    token = staged.put(owner, data, {"filename": "a.csv"})
    found = staged.get(owner, token)      # (bytes, meta) or None (unknown, expired, not yours)
    staged.drop(owner, token)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
DEFAULT_TTL_S = 3600


def owner_of(secret: str) -> str:
    """An owner id from a secret of the owner's session (the secret itself is not kept)."""
    return hashlib.sha256(b"staged-upload:" + secret.encode()).hexdigest()


class StagedUploads:
    def __init__(self, root: Path, ttl_s: int = DEFAULT_TTL_S) -> None:
        self.root = root
        self.ttl_s = ttl_s

    def _paths(self, token: str) -> tuple[Path, Path]:
        return self.root / f"{token}.bin", self.root / f"{token}.json"

    def put(self, owner: str, data: bytes, meta: dict[str, Any]) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sweep()
        token = secrets.token_urlsafe(32)
        body, head = self._paths(token)
        record = {**meta, "owner": owner, "at": time.time(), "size": len(data)}
        for path, content in ((body, data), (head, json.dumps(record).encode())):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(content)
        return token

    def get(self, owner: str, token: str) -> tuple[bytes, dict[str, Any]] | None:
        if not TOKEN.match(token):
            return None
        body, head = self._paths(token)
        try:
            record = json.loads(head.read_text())
            if not hmac.compare_digest(str(record.get("owner", "")), owner):
                return None
            if time.time() - float(record.get("at", 0)) > self.ttl_s:
                self._remove(token)
                return None
            return body.read_bytes(), record
        except (OSError, ValueError):
            return None

    def drop(self, owner: str, token: str) -> None:
        if self.get(owner, token) is not None:
            self._remove(token)

    def _remove(self, token: str) -> None:
        for path in self._paths(token):
            path.unlink(missing_ok=True)

    def sweep(self) -> int:
        """Delete expired files; how many uploads went."""
        if not self.root.is_dir():
            return 0
        gone = 0
        limit = time.time() - self.ttl_s
        for head in self.root.glob("*.json"):
            try:
                expired = float(json.loads(head.read_text()).get("at", 0)) < limit
            except (OSError, ValueError):
                expired = head.stat().st_mtime < limit if head.exists() else False
            if expired:
                self._remove(head.stem)
                gone += 1
        return gone
