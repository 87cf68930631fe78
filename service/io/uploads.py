"""Reading an import file from an HTTP request: a multipart field `file` or the raw body,
parsed off the event loop by one of the parsers of `service.io.imports`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from service.errors import BadRequest, ValidationFailed
from service.io.imports import ImportFormatError

T = TypeVar("T")


async def read_upload(request: Request) -> tuple[bytes, str | None]:
    """The file of an import: a multipart form field `file`, or the raw request body."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        extra = [name for name in dict.fromkeys(form.keys()) if name != "file"]
        if extra:
            raise ValidationFailed(
                "unknown form field" + ("s" if len(extra) > 1 else ""),
                errors=[
                    {
                        "field": name,
                        "reason": f"the form takes only 'file'; options such as '{name}' are "
                        f"query parameters (?{name}=...)",
                    }
                    for name in extra
                ],
            )
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest("send the file in a multipart field named 'file'")
        return await upload.read(), upload.filename
    return await request.body(), None


async def parse_upload(
    request: Request,
    parser: Callable[..., T],
    format: str,
    encoding: str | None,
    *,
    filename: str | None = None,
    **kwargs: Any,
) -> T:
    """Read an uploaded import file and parse it off the event loop; an empty or unreadable
    file is a 422 naming the field `file`."""
    data, upload_name = await read_upload(request)
    if not data:
        raise ValidationFailed(
            "the import file is empty", errors=[{"field": "file", "reason": "is empty"}]
        )
    try:
        return await run_in_threadpool(
            parser,
            data,
            format=format,
            encoding=encoding,
            filename=filename or upload_name,
            **kwargs,
        )
    except ImportFormatError as exc:
        raise ValidationFailed(
            f"the file cannot be read: {exc}", errors=[{"field": "file", "reason": str(exc)}]
        ) from exc
