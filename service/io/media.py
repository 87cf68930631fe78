"""What a route that answers a file declares in the OpenAPI schema: its media types, so a
generated client (and the fuzzer's content-type check) knows a CSV, an XLSX or a chart
from JSON. service.app.install_openapi then drops FastAPI's empty `application/json`."""

from __future__ import annotations

from typing import Any

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_responses(*media_types: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route answering a file in one of `media_types`."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {status: {"content": {media: binary for media in media_types}}}
