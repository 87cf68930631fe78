"""The university-domains list (Hipo/university-domains-list,
world_universities_and_domains.json): one JSON array of objects with name, country,
alpha_two_code, domains, web_pages and state-province.

The array is read object by object (`json_objects`), never whole. Each university becomes a
profile `uni:<first domain>`: name, kind university, country from alpha_two_code, region
from state-province, website the first web page (else https://<first domain>/), and
registry.domains (every domain, space-separated: each is a merge key) and sources.
A row number is the object's 1-based position in the array.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from service.io.connectors.common import ConnectorRow, text_stream, validated
from service.io.imports import ImportFormatError, RowError

SOURCE = "universities"
OWNED = ("domains",)
"""Registry keys this list owns: refreshed when it is imported again (models.merge)."""

CHUNK = 64 * 1024
MAX_OBJECT_CHARS = 1024 * 1024
"""One university is a few hundred characters; an object larger than this is refused."""


def json_objects(text: IO[str]) -> Iterator[tuple[int, Any]]:
    """(position from 1, value) of each element of a JSON array read from a text stream,
    holding one element at a time. Raises `ImportFormatError` naming the element."""
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False
    index = 0

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        try:
            chunk = text.read(CHUNK)
        except UnicodeDecodeError as exc:  # (a 500 before: found by the schema fuzz run)
            raise ImportFormatError(
                f"cannot decode the file after element {index} as {exc.encoding}: invalid "
                f"byte(s) {exc.object[exc.start : exc.start + 4].hex(' ').upper()}"
            ) from None
        if not chunk:
            eof = True
            return False
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def skip_space() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n\ufeff":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not fill():
                return ""

    if skip_space() != "[":
        raise ImportFormatError("not the university list: the file is not a JSON array")
    pos += 1
    while True:
        ch = skip_space()
        if ch == "]":
            return
        if index and ch == ",":
            pos += 1
            ch = skip_space()
        elif index:
            raise ImportFormatError(f"not valid JSON after element {index}: expected ',' or ']'")
        if not ch:
            raise ImportFormatError(f"the JSON array ends early, after element {index}")
        index += 1
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                if len(buf) - pos > MAX_OBJECT_CHARS:
                    raise ImportFormatError(
                        f"element {index} is over {MAX_OBJECT_CHARS:,} characters"
                    ) from None
                if fill():
                    continue
                raise ImportFormatError(f"not valid JSON in element {index}: {exc.msg}") from None
            if end == len(buf) and not eof and fill():
                continue  # a number or literal may go on in the next chunk
            break
        pos = end
        yield index, value


def read(
    stream: IO[bytes], *, encoding: str | None = None, warnings: list[str] | None = None
) -> Iterator[ConnectorRow]:
    """The list's universities as profiles (see the module docstring)."""
    text, _ = text_stream(stream, encoding, "utf-8")
    for index, item in json_objects(text):
        yield _row(index, item)


def _strings(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return [v.strip() for v in value if v.strip()]


def _row(index: int, item: Any) -> ConnectorRow:
    if not isinstance(item, dict):
        return ConnectorRow(index, errors=[RowError(index, None, "not a JSON object")])
    errors: list[RowError] = []
    domains = _strings(item.get("domains"))
    pages = _strings(item.get("web_pages"))
    name = item.get("name")
    if not domains:
        errors.append(RowError(index, "domains", "must be a non-empty list of domains"))
    if pages is None:
        errors.append(RowError(index, "web_pages", "must be a list of addresses"))
    if not isinstance(name, str) or not name.strip():
        errors.append(RowError(index, "name", "required, a non-empty string"))
    country = item.get("alpha_two_code")
    if not isinstance(country, str):
        errors.append(RowError(index, "alpha_two_code", "required, a country code"))
    region = item.get("state-province")
    if region is not None and not isinstance(region, str):
        errors.append(RowError(index, "state-province", "must be a string or null"))
    if errors or not domains:
        return ConnectorRow(index, errors=errors)
    first = domains[0].lower()
    data: dict[str, Any] = {
        "id": f"uni:{first}",
        "name": name,
        "kind": "university",
        "country": country,
        "region": region,
        "website": (pages or [f"https://{first}/"])[0],
        "registry": {"sources": SOURCE, "domains": " ".join(d.lower() for d in domains)},
    }
    row = validated(index, data)
    for e in row.errors:  # the list's own field names
        if e.field == "country":
            row.errors = [
                RowError(index, "alpha_two_code", e.reason) if x is e else x for x in row.errors
            ]
    return row
