"""Reading an import file from an HTTP request: a multipart field `file` or the raw body,
parsed off the event loop by one of the parsers of `service.io.imports`, or spooled to a
file as it arrives (`spool_upload`: a large profile import, read as a stream)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from service.errors import BadRequest, ValidationFailed
from service.io.imports import ImportFormatError

T = TypeVar("T")


async def _upload_field(request: Request) -> Any:
    """The multipart form's field `file` (a starlette UploadFile, spooled to a temporary
    file by the form parser); the form takes no other field."""
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
    return upload


@dataclass
class Spooled:
    """An upload written to an unnamed file (gone from the disk when it is closed, or
    when the process ends): the file, its name as sent, its size."""

    file: IO[bytes]
    filename: str | None
    size: int
    taken: bool = False
    """Whether a job took it (and closes it when it ends)."""

    def head(self, size: int = 8) -> bytes:
        self.file.seek(0)
        return self.file.read(size)

    @contextmanager
    def rewound(self) -> Iterator[IO[bytes]]:
        """The file from its start, left open (for `service.io.bulk`'s passes)."""
        self.file.seek(0)
        yield self.file

    def close(self) -> None:
        self.file.close()


async def spool_upload(request: Request, directory: Path) -> Spooled:
    """The import file (a multipart field `file`, or the raw body) written to an unnamed
    file in `directory` as it arrives (the guard stops a body over its limit); an empty
    file is a 422 naming the field `file`."""
    directory.mkdir(parents=True, exist_ok=True)
    spool = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - handed to the caller
    try:
        filename: str | None = None
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            upload = await _upload_field(request)
            filename = upload.filename
            await run_in_threadpool(shutil.copyfileobj, upload.file, spool, 1024 * 1024)
        else:
            async for chunk in request.stream():
                if chunk:
                    await run_in_threadpool(spool.write, chunk)
        size = spool.tell()
        if not size:
            raise ValidationFailed(
                "the import file is empty", errors=[{"field": "file", "reason": "is empty"}]
            )
        spool.flush()
        return Spooled(spool, filename, size)
    except BaseException:
        spool.close()
        raise


async def read_upload(request: Request) -> tuple[bytes, str | None]:
    """The file of an import: a multipart form field `file`, or the raw request body."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        upload = await _upload_field(request)
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
