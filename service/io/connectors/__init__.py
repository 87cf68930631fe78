"""Built-in connectors: the lists offices already have, read as published (README,
"Connectors"). One module per list; each exposes `read(stream, encoding=, warnings=)`
yielding `ConnectorRow`s, its `SOURCE` name and the registry keys it `OWNED`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Literal

from service.io.connectors import edinet, jpx, universities
from service.io.connectors.common import ConnectorRow

SourceName = Literal["edinet", "jpx", "universities"]


@dataclass(frozen=True)
class Source:
    name: str
    read: Callable[..., Iterator[ConnectorRow]]
    owned: tuple[str, ...]
    what: str


SOURCES: dict[str, Source] = {
    "edinet": Source("edinet", edinet.read, edinet.OWNED, "the EDINET code list (FSA, cp932)"),
    "jpx": Source("jpx", jpx.read, jpx.OWNED, "the JPX listed-company list (data_j)"),
    "universities": Source(
        "universities",
        universities.read,
        universities.OWNED,
        "the university-domains list (JSON)",
    ),
}


def read(
    source: str,
    stream: IO[bytes],
    *,
    encoding: str | None = None,
    warnings: list[str] | None = None,
) -> Iterator[ConnectorRow]:
    """The rows of a list of a known source (a KeyError for an unknown one)."""
    return SOURCES[source].read(stream, encoding=encoding, warnings=warnings)


__all__ = ["SOURCES", "ConnectorRow", "Source", "SourceName", "read"]
