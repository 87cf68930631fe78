"""Importing a published list through its connector, merged with what is stored (README,
"Connectors").

`plan` reads the list row by row (the file is never held whole: the CLI streams it from
disk), maps each row to a profile, and finds the organization it is (models.merge: the
same id, corporate number, securities code, website host, or normalised name plus
country) among the stored profiles and the rows before it. It returns the profiles to
write, merged, and a report; it writes nothing, which is the dry run. `run` writes the
plan through `profiles.service.save` (the usual upsert: unchanged profiles are not
touched, changed ones are embedded again), under the engine's write lock, so no other
write lands between the plan and the save.

Memory: the keys of every stored profile (a few short strings each) and the planned
profiles; never a stored profile's document unless a row merges into it.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from models.merge import MergeIndex, merge_into
from models.profile import Profile, profile_hash
from models.progress import Progress
from service.auth import DEFAULT_OFFICE, Principal
from service.engine import Engine
from service.errors import ValidationFailed
from service.io.connectors import SOURCES
from service.io.imports import ImportFormatError
from service.jobs.service import Jobs
from service.profiles.service import ImportReport, foreign_everywhere, foreign_reason, save
from service.store import profile_documents, profiles
from service.store.db import Session, SessionFactory, transaction

MAX_MERGES_LISTED = 10_000
DEFAULT_MAX_ROWS = 100_000
MAX_ERRORS_LISTED = 1_000


@dataclass
class ConnectorReport(ImportReport):
    """The import report (rows, valid, created, updated, unchanged, rejected, errors ...)
    and what the connector adds: rows skipped as no organization (with the reasons
    counted), the profiles the rows make after merging, the rows merged into another
    profile and the first merges (row, id, into, key, value). On a dry run, created /
    updated / unchanged say what the import would do."""

    source: str = ""
    dry_run: bool = False
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    profiles: int = 0
    merged: int = 0
    merged_by: dict[str, int] = field(default_factory=dict)
    merges: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Plan:
    report: ConnectorReport
    items: dict[str, Profile]  # id -> the profile to write, in first-seen order


def _index(session: Session) -> MergeIndex:
    index = MergeIndex()
    for doc in profile_documents.stream(session):
        index.add(Profile.model_construct(**doc))  # stored documents were validated
    return index


def plan(
    session: Session,
    source: str,
    stream: IO[bytes],
    *,
    encoding: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    protected: Mapping[str, str | None] | None = None,
) -> Plan:
    """What importing the list would do (see the module docstring); writes nothing.
    Raises `ImportFormatError` when the file is not the source's list, or has more than
    `max_rows` data rows (CLUSTERMATCH_MAX_IMPORT_ROWS: the plan holds its profiles).
    A row that is, or merges into, a `protected` profile (id -> its office: those of
    other offices in an organizer's import, `profiles.service.foreign_everywhere`, the
    tenancy rule) is a bad row."""
    protected = protected or {}
    connector = SOURCES[source]
    report = ConnectorReport(format=source, source=source, encoding=encoding or "auto")
    index = _index(session)
    items: dict[str, Profile] = {}
    first_row: dict[str, int] = {}
    reasons: Counter[str] = Counter()
    keys: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    for row in connector.read(stream, encoding=encoding, warnings=report.warnings):
        report.rows += 1
        if report.rows > max_rows:
            raise ImportFormatError(
                f"the list has more than {max_rows:,} data rows; at most {max_rows:,} are "
                "allowed per import (CLUSTERMATCH_MAX_IMPORT_ROWS)"
            )
        if row.skipped:
            report.skipped += 1
            reasons[row.skipped.split(" (")[0].split(" of ")[0]] += 1
            continue
        if row.errors or row.profile is None:
            report.rejected += 1
            errors.extend(e.to_dict() for e in row.errors)
            continue
        incoming = row.profile
        match = index.find(incoming)
        target_id = incoming.id if match is None else match.id
        if target_id in protected:
            report.rejected += 1
            errors.append(
                {
                    "row": row.row,
                    "field": "id",
                    "reason": f"is '{target_id}', which {foreign_reason(protected[target_id])}",
                }
            )
            continue
        report.valid += 1
        if match is None:
            items[incoming.id] = incoming
            first_row[incoming.id] = row.row
            index.add(incoming)
            continue
        target = items.get(match.id)
        if target is None:
            doc = profile_documents.documents(session, [match.id]).get(match.id)
            target = Profile.model_validate(doc) if doc is not None else None
        merged = incoming if target is None else merge_into(target, incoming, connector.owned)
        items[match.id] = merged
        index.add(merged)
        joined_earlier = match.key == "id" and match.id in first_row
        if match.id != incoming.id or joined_earlier:
            report.merged += 1
            keys[match.key] += 1
            if len(report.merges) < MAX_MERGES_LISTED:
                report.merges.append(
                    {
                        "row": row.row,
                        "id": incoming.id,
                        "into": match.id,
                        "into_row": first_row.get(match.id),
                        "key": match.key,
                        "value": match.value,
                    }
                )
    report.errors = errors[:MAX_ERRORS_LISTED]
    report.skipped_reasons = dict(reasons.most_common())
    report.merged_by = dict(keys.most_common())
    report.profiles = len(items)
    if report.rows == 0:
        report.warnings.append("the list has no data rows: nothing to import")
    return Plan(report, items)


def _check(report: ConnectorReport, allow_partial: bool) -> None:
    if report.rejected and not allow_partial:
        raise ValidationFailed.rows(report.rejected, report.rows, report.errors, report.to_dict())


def _would(session: Session, p: Plan) -> None:
    """Fill a dry run's created / updated / unchanged from the stored hashes."""
    stored = profiles.keys_of(session, list(p.items))
    for pid, profile in p.items.items():
        if pid not in stored:
            p.report.created += 1
        elif stored[pid][1] != profile_hash(profile):
            p.report.updated += 1
        else:
            p.report.unchanged += 1


def run(
    session: Session,
    engine: Engine | None,
    source: str,
    stream: IO[bytes],
    *,
    encoding: str | None = None,
    allow_partial: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    protected: Mapping[str, str | None] | None = None,
    office: str | None = DEFAULT_OFFICE,
) -> ConnectorReport:
    """Plan the list, then write it (unless `dry_run`); new profiles are of `office`.
    With bad rows nothing is written unless `allow_partial`; raises ValidationFailed with
    the per-row report."""
    if dry_run or engine is None:
        p = plan(session, source, stream, encoding=encoding, max_rows=max_rows, protected=protected)
        _check(p.report, allow_partial)
        p.report.dry_run = True
        _would(session, p)
        return p.report
    with engine.write_lock:
        p = plan(session, source, stream, encoding=encoding, max_rows=max_rows, protected=protected)
        _check(p.report, allow_partial)
        save(session, engine, list(p.items.values()), p.report, progress, office=office)
        return p.report


def import_upload(
    session: Session,
    engine: Engine,
    jobs: Jobs,
    created_by: int | None,
    source: str,
    data: bytes,
    *,
    encoding: str | None,
    allow_partial: bool,
    dry_run: bool,
    sync_rows: int,
    max_rows: int = DEFAULT_MAX_ROWS,
    caller: Principal | None = None,
) -> ConnectorReport | str:
    """An uploaded list: the report (dry run, or a list of at most `sync_rows` profiles,
    written at once) or the id of the job that writes it; new profiles are of the
    caller's office. A list with bad rows is refused before any job unless
    `allow_partial`."""
    protected = foreign_everywhere(session, caller) if caller else {}
    office = caller.office if caller else DEFAULT_OFFICE
    checked = plan(
        session,
        source,
        io.BytesIO(data),
        encoding=encoding,
        max_rows=max_rows,
        protected=protected,
    )
    _check(checked.report, allow_partial)
    if dry_run:
        checked.report.dry_run = True
        _would(session, checked)
        return checked.report
    # The write plans again, under the engine's write lock (in the request or the job):
    # another write may have landed since this check.
    if len(checked.items) <= sync_rows:
        return run(
            session,
            engine,
            source,
            io.BytesIO(data),
            encoding=encoding,
            allow_partial=allow_partial,
            dry_run=dry_run,
            max_rows=max_rows,
            protected=protected,
            office=office,
        )

    def work(job_session: Session, progress: Progress) -> dict[str, Any]:
        return run(
            job_session,
            engine,
            source,
            io.BytesIO(data),
            encoding=encoding,
            allow_partial=allow_partial,
            progress=progress,
            max_rows=max_rows,
            protected=foreign_everywhere(job_session, caller) if caller else protected,
            office=office,
        ).to_dict()

    return jobs.submit("import", work, total=len(checked.items), created_by=created_by)


def import_path(
    engine: Engine | None,
    sessions: SessionFactory,
    source: str,
    opener: Callable[[], IO[bytes]],
    **options: Any,
) -> ConnectorReport:
    """The CLI's import: the list streamed from disk, in one unit of work."""
    with transaction(sessions) as session, opener() as stream:
        return run(session, engine, source, stream, **options)
