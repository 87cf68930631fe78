"""What routes declare in the OpenAPI schema beyond FastAPI's defaults, so the schema
states what the API enforces and answers (tests/service/test_openapi_fuzz.py holds them
to it):
- a file answer's media types, so a generated client knows a CSV, an XLSX or a chart from
  JSON (service.app.install_openapi then drops FastAPI's empty `application/json`);
- text patterns the services check by hand (names, notes);
- the body of a route that reads its JSON itself but validates it with a model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NDJSON = "application/x-ndjson"
JSON = "application/json"

_RAW: dict[str, dict[str, Any]] = {
    CSV: {"type": "string"},
    NDJSON: {"type": "string"},
    XLSX: {"type": "string", "format": "binary"},
    JSON: {"type": "array", "items": {"type": "object"}},
}


def file_responses(*media_types: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route answering a file in one of `media_types`."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {status: {"content": {media: binary for media in media_types}}}


ONE_LINE_TEXT = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
"""A name as the services check it (service.shortlists / service.reports clean_name): not
blank, no control characters. Declared with `json_schema_extra={"pattern": ...}` so the
schema states it while the service keeps its own field-and-reason message."""
NOTE_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""A note: control characters refused except tabs and line breaks (CR or LF)."""


def upload_body(*media_types: str) -> dict[str, Any]:
    """`openapi_extra=` for an import route, which reads the request itself: the file as
    the raw body in one of `media_types`, or as the multipart form field `file` (the only
    field: options are query parameters). service.app.install_openapi adds its limit."""
    form = {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
        "additionalProperties": False,
    }
    content = {"multipart/form-data": {"schema": form}}
    content |= {media: {"schema": _RAW[media]} for media in media_types}
    return {"requestBody": {"required": True, "content": content}}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra=` for a route that reads its JSON body itself (`body: dict`, to name
    the nearest field of an unknown one) but validates it with `model`: the schema states
    the model's fields, limits and required ones instead of "any object"."""
    schema = model.model_json_schema()
    assert "$defs" not in schema, "inline models only"  # no components to refer to
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
