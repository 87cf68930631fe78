"""Profiles out, for Excel: CSV (UTF-8 with BOM) and XLSX, through `io.spreadsheets` (every
text cell neutralised: a name starting with "=" stays text).

Columns: the profile fields in the import's order (list fields joined with "; ", which the
import splits again), then the registry keys the connectors write, as `registry.<key>`.
`contact` is a column for admins only, as everywhere else contact details are private.
Filters: kind, country, cluster (the listing's). At most `MAX_EXPORT_ROWS` profiles per
file: the XLSX is built in memory, and a bigger directory is exported by filter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from models.profile import Profile
from service.auth import Principal
from service.errors import ValidationFailed
from service.io.spreadsheets import Cell
from service.matching.service import countries as country_filter
from service.store import profile_documents, profiles
from service.store.db import Session

MAX_EXPORT_ROWS = 100_000
REGISTRY_COLUMNS = (
    "corporate_number",
    "edinet_code",
    "securities_code",
    "market",
    "listed",
    "address",
    "domains",
    "sources",
)
_FIELDS = [f for f in Profile.model_fields if f != "registry"]


def header(with_contact: bool) -> list[str]:
    return [f for f in _FIELDS if with_contact or f != "contact"] + [
        f"registry.{k}" for k in REGISTRY_COLUMNS
    ]


def _cells(doc: dict[str, Any], with_contact: bool) -> list[Cell]:
    out: list[Cell] = []
    for name in _FIELDS:
        if name == "contact" and not with_contact:
            continue
        value = doc.get(name)
        if isinstance(value, list):
            out.append("; ".join(str(v) for v in value) or None)
        elif isinstance(value, int | float | str) or value is None:
            out.append(value)
        else:
            out.append(str(value))
    registry = doc.get("registry") or {}
    out += [registry.get(k) for k in REGISTRY_COLUMNS]
    return out


def for_caller(
    session: Session,
    caller: Principal,
    *,
    kinds: Sequence[str] | None,
    countries: Sequence[str] | None,
    cluster: str | None,
) -> tuple[list[str], Iterator[list[Cell]]]:
    """The export over the API: admins and organizers; contact details for admins."""
    caller.require("admin", "organizer")
    return export_rows(
        session,
        kinds=kinds,
        countries=countries,
        cluster=cluster,
        with_contact=caller.is_admin(),
    )


def export_rows(
    session: Session,
    *,
    kinds: Sequence[str] | None,
    countries: Sequence[str] | None,
    cluster: str | None,
    with_contact: bool,
) -> tuple[list[str], Iterator[list[Cell]]]:
    """(the header, the rows) of the profiles passing the filters; 422 when they are more
    than `MAX_EXPORT_ROWS`."""
    codes = country_filter(list(countries)) if countries else None
    total, _ = profiles.page(
        session, kinds=kinds, countries=codes, cluster=cluster, limit=1, offset=0
    )
    if total > MAX_EXPORT_ROWS:
        raise ValidationFailed(
            "too many profiles for one export",
            errors=[
                {
                    "field": "kind",
                    "reason": f"the filters match {total:,} profiles; at most "
                    f"{MAX_EXPORT_ROWS:,} per export: narrow them with kind, country or cluster",
                }
            ],
        )
    docs = profile_documents.stream(session, kinds=kinds, countries=codes, cluster=cluster)
    return header(with_contact), (_cells(d, with_contact) for d in docs)
