"""Profiles: create, read, update, delete, list, and bulk import (API and CLI).

Writes go to the database first (all-or-nothing), then the engine embeds and indexes what
changed. An unchanged profile (same content hash) is skipped, so re-importing a file
changes nothing and encodes nothing.

The functions take the caller's session and never open one. A write the index must
follow commits that session before the engine sees the rows: the engine stores vectors
and reads history in transactions of its own, and other processes index what the change
feed shows them only once it is committed. The engine's write lock covers the read of
the stored rows, the write, the commit and the indexing, so writers in this process
reach the database and the index in the same order.
"""

from __future__ import annotations

import re
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from dataclasses import replace as replace_fields
from typing import Any

from pydantic import ValidationError

from models.profile import ID_PATTERN, MAX_ID, Profile, profile_hash
from models.progress import Progress
from service.auth import DEFAULT_OFFICE, Principal
from service.engine import Engine, org_key, profile_texts
from service.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from service.io.bulk import FileCheck, Opener, check_profiles, profile_chunks
from service.io.imports import (
    FileFormat,
    ImportFormatError,
    ParsedFile,
    RowError,
    UnknownColumns,
    parse_profiles,
)
from service.io.uploads import Spooled
from service.io.xlsx import is_xlsx, parse_profile_upload
from service.jobs.service import JobProgress, Jobs
from service.matching.service import countries as country_filter
from service.settings import Settings
from service.store import profiles
from service.store.catalogue import StoredProfile, stored_profiles
from service.store.changes import PROFILE, record_changes
from service.store.db import Session, SessionFactory, transaction
from service.store.tables import ProfileRow, utcnow


@dataclass
class ImportReport:
    format: str = "json"
    encoding: str = "utf-8"
    rows: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    encoded_texts: int = 0
    took_s: float = 0.0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A write of this many profiles saves the index at once; smaller ones leave it to the
# periodic save (CLUSTERMATCH_INDEX_SAVE_INTERVAL_S) and the one at shutdown. Saving
# writes the whole index (about 1 GB at 100k profiles, seconds), and the database stays
# the source of truth: startup re-indexes what the saved index missed, from cached vectors.
SAVE_AFTER_ROWS = 1_000


def _row_values(p: Profile, h: str) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "country": p.country,
        "cluster": p.cluster,
        "org_key": org_key(p.website),
        "data": p.model_dump(mode="json"),
        "content_hash": h,
    }


def _upsert(
    session: Session,
    items: Sequence[Profile],
    report: ImportReport,
    office: str | None = DEFAULT_OFFICE,
) -> list[StoredProfile]:
    """Insert or update `items` by id in the caller's transaction, with their change
    records; counts them in `report`. New profiles are of `office`; a stored one keeps
    its office. Returns the rows that changed (to index)."""
    changed: list[StoredProfile] = []
    existing = profiles.keys_of(session, [p.id for p in items])
    inserts: list[tuple[Profile, str]] = []
    updates: list[tuple[int, Profile, str]] = []
    now = utcnow()
    for p in items:
        h = profile_hash(p)
        if p.id not in existing:
            inserts.append((p, h))
        elif existing[p.id][1] != h:
            updates.append((existing[p.id][0], p, h))
        else:
            report.unchanged += 1
    if inserts:
        profiles.insert_many(
            session,
            [
                {**_row_values(p, h), "office": office, "created_at": now, "updated_at": now}
                for p, h in inserts
            ],
        )
        pk_of = profiles.keys_of(session, [p.id for p, _ in inserts])
        changed += [(pk_of[p.id][0], p, h) for p, h in inserts]
    if updates:
        profiles.update_many(
            session,
            [{"pk": pk, **_row_values(p, h), "updated_at": now} for pk, p, h in updates],
        )
        changed += updates
    report.created += len(inserts)
    report.updated += len(updates)
    record_changes(session, PROFILE, [pk for pk, _, _ in changed])
    return changed


def save(
    session: Session,
    engine: Engine,
    items: Sequence[Profile],
    report: ImportReport | None = None,
    progress: Progress | None = None,
    stored: Callable[[ImportReport], None] | None = None,
    *,
    office: str | None = DEFAULT_OFFICE,
) -> ImportReport:
    """Upsert profiles by id, commit, then embed and index the changed ones. New profiles
    are of `office` (the writer's: see tenancy, which the caller checked); a stored one
    keeps its office. `stored` gets the report once the rows are committed, before the
    (long) encoding: a job keeps it, so a crash while encoding still says what was
    written."""
    report = report or ImportReport()
    started = time.perf_counter()
    with engine.write_lock:
        changed = _upsert(session, items, report, office)
        session.commit()  # the index follows committed rows (see the module docstring)
        if stored is not None:
            stored(report)
        report.encoded_texts += engine.ingest(changed, progress)
        if len(changed) >= SAVE_AFTER_ROWS:
            engine.save()
    report.took_s = round(time.perf_counter() - started, 3)
    return report


def delete(session: Session, engine: Engine, profile_id: str) -> bool:
    """Delete a profile and take it out of the index; False when there is none."""
    with engine.write_lock:
        pk = profiles.pk_of(session, profile_id)
        if pk is None:
            return False
        profiles.delete_pk(session, pk)
        record_changes(session, PROFILE, [pk])
        session.commit()  # the index follows committed rows (see the module docstring)
        engine.remove([pk])
    return True


def checked_report(parsed: ParsedFile[Profile], *, allow_partial: bool) -> ImportReport:
    """The report of a parsed file; raises ValidationFailed when it has invalid rows and
    the caller did not ask for the valid ones alone."""
    report = ImportReport(
        format=parsed.format,
        encoding=parsed.encoding,
        rows=parsed.total_rows,
        valid=len(parsed.items),
        rejected=len({e.row for e in parsed.errors}),
        errors=[e.to_dict() for e in parsed.errors[:1000]],
        warnings=list(parsed.warnings),
    )
    if parsed.errors and not allow_partial:
        raise ValidationFailed.rows(report.rejected, report.rows, report.errors, report.to_dict())
    return report


def checked_scan(check: FileCheck, *, allow_partial: bool) -> ImportReport:
    """`checked_report` of a file checked as it streamed (service.io.bulk)."""
    report = ImportReport(
        format=check.format,
        encoding=check.encoding,
        rows=check.total_rows,
        valid=check.valid,
        rejected=check.rejected,
        errors=[e.to_dict() for e in check.errors],
        warnings=list(check.warnings),
    )
    if check.rejected and not allow_partial:
        raise ValidationFailed.rows(report.rejected, report.rows, report.errors, report.to_dict())
    return report


CHUNK_ROWS = 5_000
"""Rows of a streamed import read, stored, encoded and indexed at a time: the import's
memory (a chunk's profiles and vectors, about 100 MB with the default model), and the
engine's work per write (its lexical index restacks past 2,000 new rows, its vocabulary is
refitted when the directory doubles): 1,000-row chunks took 4.7x the time of one write of
50,000 synthetic profiles with a fast stand-in encoder (scripts/bench_import.py)."""


def import_stream(
    session: Session,
    engine: Engine,
    opener: Opener,
    check: FileCheck,
    *,
    allow_partial: bool,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    stored: Callable[[ImportReport], None] | None = None,
    progress_while_storing: bool = True,
    office: str | None = DEFAULT_OFFICE,
) -> ImportReport:
    """Import a file checked by `service.io.bulk.check_profiles`, in chunks, never holding
    it whole:

    1. storing: the good rows are read again, `chunk_rows` at a time, and upserted in
       the caller's transaction, which commits once they are all in (all or nothing, as
       a small import); `stored` then gets the report with every count, before encoding;
    2. embedding: the changed profiles are read back from the database `chunk_rows` at a
       time, their texts encoded into the embedding cache outside the engine's write lock
       (a single profile write of this process goes ahead meanwhile), and indexed under
       it (from the cache: a row changed meanwhile is indexed as it is now).

    `progress` gets ("storing", rows, good rows) and ("embedding", profiles, changed
    profiles) as each chunk advances; with `progress_while_storing=False`, storing only
    once its transaction is committed (a job's progress is written to the database,
    which SQLite would make wait for that very transaction). Memory: a chunk, and 8
    bytes per changed row."""
    report = checked_scan(check, allow_partial=allow_partial)
    started = time.perf_counter()
    changed = array("q")
    with engine.write_lock:  # (see the module docstring: writers keep one order)
        for chunk in profile_chunks(opener, check, rows=chunk_rows):
            rows = [p for _, p in chunk]
            changed.extend(pk for pk, _, _ in _upsert(session, rows, report, office))
            if progress is not None and progress_while_storing:
                progress("storing", report.created + report.updated + report.unchanged, check.valid)
        session.commit()  # the index follows committed rows (see the module docstring)
    if stored is not None:
        stored(report)
    if progress is not None and not (progress_while_storing and check.valid):
        progress("storing", check.valid, check.valid)  # (the last chunk said so already)
    total = len(changed)
    for start in range(0, total, chunk_rows):
        keys = list(changed[start : start + chunk_rows])
        within = _within(progress, start, len(keys), total)
        report.encoded_texts += _index_chunk(engine, keys, within)
        if progress is not None:
            progress("embedding", start + len(keys), total)
    if total >= SAVE_AFTER_ROWS:
        engine.save()
    report.took_s = round(time.perf_counter() - started, 3)
    return report


def _within(progress: Progress | None, start: int, size: int, total: int) -> Progress | None:
    """A chunk's embedding progress (texts of the chunk) as the import's (profiles)."""
    if progress is None:
        return None

    def report(phase: str, done: int, of: int) -> None:
        if phase == "embedding" and of:
            progress("embedding", start + size * done // of, total)

    return report


def _index_chunk(engine: Engine, keys: Sequence[int], progress: Progress | None) -> int:
    """Encode (into the cache) and index the stored profiles with these keys; the texts
    encoded."""
    with engine.sessions() as session:
        rows = list(stored_profiles(session, keys))
    _, encoded = engine.embedder.embed([t for _, p, _ in rows for t in profile_texts(p)], progress)
    with engine.write_lock:
        with engine.sessions() as session:  # as they are now (a write may have come between)
            now = profiles.keys_of(session, [p.id for _, p, _ in rows])
            same = [r for r in rows if now.get(r[1].id) == (r[0], r[2])]
            kept = {r[0] for r in same}
            moved = [pk for pk, _ in now.values() if pk not in kept]
            if moved:
                same += stored_profiles(session, moved)
        # (this process's follower may have indexed some already, from the cache)
        fresh = [
            r for r in same if (rec := engine.records.get(r[0])) is None or rec.content_hash != r[2]
        ]
        encoded += engine.ingest(fresh)
    return encoded


def import_rows(
    session: Session,
    engine: Engine,
    parsed: ParsedFile[Profile],
    *,
    allow_partial: bool,
    progress: Progress | None = None,
    stored: Callable[[ImportReport], None] | None = None,
    office: str | None = DEFAULT_OFFICE,
) -> ImportReport:
    """Store the valid rows of a parsed file (see `checked_report` for the invalid ones);
    new profiles are of `office`."""
    report = checked_report(parsed, allow_partial=allow_partial)
    items = [p for _, p in parsed.items]
    return save(session, engine, items, report, progress, stored, office=office)


# ---------------------------------------------------------------------------- the API


def _validate(data: Any) -> Profile:
    if isinstance(data, dict) and "office" in data:
        raise ValidationFailed(
            "the profile is invalid",
            errors=[
                {
                    "field": "office",
                    "reason": "is not part of the profile: an admin moves a profile to an "
                    "office with PUT /v1/profiles/{id}/office",
                }
            ],
        )
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(
            "the profile is invalid", exc, known=Profile.model_fields
        ) from exc


def check_id(profile_id: str) -> None:
    """404 for an id no profile can have."""
    if len(profile_id) > MAX_ID or not re.match(ID_PATTERN, profile_id):
        raise NotFound.for_id("profile", profile_id, MAX_ID)


def check_new_id(profile_id: str) -> None:
    """422 for an id a profile may not be created with (PUT creates: as POST's body)."""
    if not 1 <= len(profile_id) <= MAX_ID or not re.match(ID_PATTERN, profile_id):
        raise ValidationFailed(
            "invalid profile id",
            errors=[
                {
                    "field": "id",
                    "reason": f"must be 1 to {MAX_ID} characters matching {ID_PATTERN} "
                    f"(got {len(profile_id)} characters: '{profile_id[:40]}')",
                }
            ],
        )


# ---------------------------------------------------------------------------- tenancy
# A deployment may serve several cluster offices. Profiles are one directory: every
# organizer reads, matches, searches and invites all of them (finding a counterpart in
# another office's membership is what matching is for, and a national or cross-office
# event lists profiles of several offices). Writing is narrower: a profile belongs to the
# office that created it (`ProfileRow.office`), and only that office's organizers, any
# API key or console user of it, and admins change or delete it, one by one, by import or
# through a connector (another office's organizer gets 403; such rows of its imports are
# row errors). A profile of no office (the shared directory, which only an admin makes so:
# service.offices) is written by admins alone. Listing a profile in an event gives no
# right to write it. A member writes its own profile, whatever its office, once an admin
# or organizer has created it.


def foreign_reason(office: str | None) -> str:
    """Why an organizer may not write a profile of `office` (a row error's reason)."""
    if office is None:
        return "is in the shared directory (no office): only an admin changes it"
    return f"belongs to the office '{office}', not yours: its organizers or an admin change it"


def foreign(session: Session, caller: Principal, ids: Sequence[str]) -> dict[str, str | None]:
    """The stored profiles among `ids` that an organizer may not write, with their office
    (empty for admins and members, whom other rules govern)."""
    if caller.role != "organizer":
        return {}
    return {i: o for i, o in profiles.offices_of(session, ids).items() if o != caller.office}


def foreign_everywhere(session: Session, caller: Principal) -> dict[str, str | None]:
    """Every stored profile an organizer may not write, with its office (a connector's
    rows may merge into any stored profile); empty for admins and members."""
    if caller.role != "organizer":
        return {}
    return profiles.outside_office(session, caller.office)


def check_writable(session: Session, caller: Principal, profile_id: str) -> None:
    if caller.owns(profile_id):
        return
    found = foreign(session, caller, [profile_id])
    if profile_id in found:
        raise Forbidden(f"the profile '{profile_id}' {foreign_reason(found[profile_id])}")


def refuse_foreign(
    session: Session, caller: Principal, parsed: ParsedFile[Profile]
) -> ParsedFile[Profile]:
    """An import by an organizer: the rows of profiles it may not write become row errors
    (nothing of them is stored)."""
    protected = foreign(session, caller, [p.id for _, p in parsed.items])
    if not protected:
        return parsed
    errors = [
        RowError(row, "id", foreign_reason(protected[p.id]))
        for row, p in parsed.items
        if p.id in protected
    ]
    return replace_fields(
        parsed,
        items=[(row, p) for row, p in parsed.items if p.id not in protected],
        errors=sorted([*parsed.errors, *errors], key=lambda e: e.row),
    )


def get(session: Session, profile_id: str) -> ProfileRow:
    check_id(profile_id)
    row = profiles.get(session, profile_id)
    if row is None:
        raise NotFound.for_id("profile", profile_id, MAX_ID)
    return row


def create(session: Session, engine: Engine, caller: Principal, body: dict[str, Any]) -> ProfileRow:
    """A new profile, of the caller's office; 409 when its id is taken."""
    caller.require("admin", "organizer")
    profile = _validate(body)
    with engine.write_lock:
        if profiles.pk_of(session, profile.id) is not None:
            raise Conflict(f"a profile with id '{profile.id}' exists; use PUT to replace it")
        save(session, engine, [profile], office=caller.office)
    return get(session, profile.id)


def replace(
    session: Session, engine: Engine, caller: Principal, profile_id: str, body: dict[str, Any]
) -> tuple[ProfileRow, bool]:
    """Create (of the caller's office) or replace the profile with this id; (the stored
    row, whether it is new)."""
    if not caller.owns(profile_id):
        caller.require("admin", "organizer")
    check_new_id(profile_id)
    if "id" in body and body["id"] != profile_id:
        raise BadRequest("the id in the body differs from the id in the path")
    profile = _validate({**body, "id": profile_id})
    if caller.role == "member" and profiles.pk_of(session, profile_id) is None:
        raise NotFound(
            f"no profile with id '{profile_id}': an admin or organizer creates a member's "
            "profile, the member then keeps it up to date"
        )
    check_writable(session, caller, profile_id)
    report = save(session, engine, [profile], office=caller.office)
    return get(session, profile_id), bool(report.created)


def patch(
    session: Session, engine: Engine, caller: Principal, profile_id: str, body: dict[str, Any]
) -> ProfileRow:
    """Change some fields of a stored profile: the body's fields over the stored ones."""
    if not caller.owns(profile_id):
        caller.require("admin", "organizer")
    if "id" in body and body["id"] != profile_id:
        raise BadRequest("a profile's id cannot be changed")
    check_id(profile_id)
    check_writable(session, caller, profile_id)
    with engine.write_lock:
        current = profiles.data_of(session, profile_id)
        if current is None:
            raise NotFound.for_id("profile", profile_id, MAX_ID)
        save(session, engine, [_validate({**current, **body})])
    return get(session, profile_id)


def remove(session: Session, engine: Engine, caller: Principal, profile_id: str) -> None:
    caller.require("admin", "organizer")
    check_id(profile_id)
    check_writable(session, caller, profile_id)
    if not delete(session, engine, profile_id):
        raise NotFound.for_id("profile", profile_id, MAX_ID)


def listing(
    session: Session,
    *,
    kinds: Sequence[str] | None,
    countries: Sequence[str] | None,
    cluster: str | None,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[ProfileRow]]:
    """(how many profiles pass the filters, those of one page)."""
    return profiles.page(
        session,
        kinds=kinds,
        countries=country_filter(list(countries)) if countries else None,
        cluster=cluster,
        limit=limit,
        offset=offset,
    )


def import_upload(
    session: Session,
    engine: Engine,
    jobs: Jobs,
    caller: Principal,
    parsed: ParsedFile[Profile],
    *,
    allow_partial: bool,
    sync_rows: int,
) -> ImportReport | str:
    """Store an uploaded file at once (up to `sync_rows` valid rows) or queue it as a job;
    the report, or the job's id. A file with invalid rows is refused before any job.
    An organizer's rows of profiles it may not write (see tenancy) are invalid rows; new
    profiles are of the caller's office."""
    parsed = refuse_foreign(session, caller, parsed)
    checked_report(parsed, allow_partial=allow_partial)
    office = caller.office
    if len(parsed.items) <= sync_rows:
        return import_rows(session, engine, parsed, allow_partial=allow_partial, office=office)

    def work(job_session: Session, progress: JobProgress) -> dict[str, Any]:
        def saved(report: ImportReport) -> None:
            # the counts, on the job, before encoding: if the process dies while encoding,
            # the failed job still says how many rows were read, written and rejected
            progress.partial(report.to_dict())

        # the rule again, in the job's own transaction: a profile may have moved since
        rows = refuse_foreign(job_session, caller, parsed)
        return import_rows(
            job_session,
            engine,
            rows,
            allow_partial=allow_partial,
            progress=progress,
            stored=saved,
            office=office,
        ).to_dict()

    return jobs.submit("import", work, total=len(parsed.items), created_by=caller.key_pk)


CHECK_IN_REQUEST_BYTES = 16 * 1024 * 1024
"""A streamed upload up to this size is checked in its request (bad rows: 422 at once);
a larger one in its job (bad rows: the job fails with the same problem document), so
that the request answers before a load balancer's timeout."""


def _refuser(session: Session, caller: Principal) -> Callable[[str], str | None] | None:
    """An organizer's rule for a streamed file's rows (see tenancy): the reason a row's
    id may not be written, or None."""
    protected = foreign_everywhere(session, caller)
    if not protected:
        return None
    return lambda key: foreign_reason(protected[key]) if key in protected else None


def _checked(opener: Opener, refuse: Callable[[str], str | None] | None, **read: Any) -> FileCheck:
    try:
        return check_profiles(opener, refuse=refuse, **read)
    except ImportFormatError as exc:
        raise ValidationFailed(
            f"the file cannot be read: {exc}", errors=[{"field": "file", "reason": str(exc)}]
        ) from exc


def import_spooled(
    session: Session,
    engine: Engine,
    jobs: Jobs,
    caller: Principal,
    upload: Spooled,
    *,
    allow_partial: bool,
    sync_rows: int,
    settings: Settings,
    format: str = "auto",
    encoding: str | None = None,
    filename: str | None = None,
    unknown_columns: UnknownColumns = "error",
) -> ImportReport | str:
    """An upload spooled to disk (service.io.uploads): imported at once (up to
    `sync_rows` good rows) or by a job; the report, or the job's id (the job then takes
    the upload, and closes it when it ends). JSONL and CSV are read as they stream (at
    most `max_bulk_import_rows` rows); an XLSX workbook is read whole, as the console
    reads it (at most `max_body_bytes` and `max_import_rows`). An organizer's rows of
    profiles it may not write (see tenancy) are bad rows."""
    if format == "xlsx" or (format == "auto" and is_xlsx(upload.head(), filename)):
        return _import_workbook(
            session,
            engine,
            jobs,
            caller,
            upload,
            allow_partial,
            sync_rows,
            settings,
            filename,
            unknown_columns,
        )
    if format not in ("auto", "jsonl", "csv"):
        raise ValidationFailed(
            "unknown format", errors=[{"field": "format", "reason": "use auto, jsonl, csv or xlsx"}]
        )
    read: dict[str, Any] = {
        "format": format,
        "encoding": encoding,
        "filename": filename,
        "max_rows": settings.max_bulk_import_rows,
        "unknown_columns": unknown_columns,
    }
    check: FileCheck | None = None
    if upload.size <= CHECK_IN_REQUEST_BYTES:
        check = _checked(upload.rewound, _refuser(session, caller), **read)
        checked_scan(check, allow_partial=allow_partial)
        if check.valid <= sync_rows:
            return import_stream(
                session,
                engine,
                upload.rewound,
                check,
                allow_partial=allow_partial,
                office=caller.office,
            )

    def work(job_session: Session, progress: JobProgress) -> dict[str, Any]:
        def saved(report: ImportReport) -> None:
            # the counts, on the job, before encoding: if the process dies while encoding,
            # the failed job still says how many rows were read, written and rejected
            progress.partial(report.to_dict())

        try:
            found = check or _checked(
                upload.rewound,
                _refuser(job_session, caller),
                progress=lambda done: progress("checking", done, upload.size),
                **read,
            )
            return import_stream(
                job_session,
                engine,
                upload.rewound,
                found,
                allow_partial=allow_partial,
                progress=progress,
                stored=saved,
                progress_while_storing=False,
                office=caller.office,
            ).to_dict()
        finally:
            upload.close()

    total = check.valid if check is not None else 0
    job = jobs.submit("import", work, total=total, created_by=caller.key_pk)
    upload.taken = True
    return job


def _import_workbook(
    session: Session,
    engine: Engine,
    jobs: Jobs,
    caller: Principal,
    upload: Spooled,
    allow_partial: bool,
    sync_rows: int,
    settings: Settings,
    filename: str | None,
    unknown_columns: UnknownColumns,
) -> ImportReport | str:
    if upload.size > settings.max_body_bytes:
        raise PayloadTooLarge(
            f"the workbook is {upload.size} bytes; at most {settings.max_body_bytes} are read "
            "(CLUSTERMATCH_MAX_BODY_BYTES): save a larger list as CSV, which is read as it "
            "streams"
        )
    with upload.rewound() as file:
        data = file.read()
    try:
        parsed = parse_profile_upload(
            data,
            format="xlsx",
            filename=filename,
            max_rows=settings.max_import_rows,
            unknown_columns=unknown_columns,
        )
    except ImportFormatError as exc:
        raise ValidationFailed(
            f"the file cannot be read: {exc}", errors=[{"field": "file", "reason": str(exc)}]
        ) from exc
    return import_upload(
        session, engine, jobs, caller, parsed, allow_partial=allow_partial, sync_rows=sync_rows
    )


# ------------------------------------------------------- for callers outside a request
# The CLI and the offline tools hold a session factory: each call is one unit of work.


def save_profiles(
    engine: Engine,
    sessions: SessionFactory,
    items: Sequence[Profile],
    report: ImportReport | None = None,
    progress: Progress | None = None,
    office: str | None = DEFAULT_OFFICE,
) -> ImportReport:
    with transaction(sessions) as session:
        return save(session, engine, items, report, progress, office=office)


def delete_profile(engine: Engine, sessions: SessionFactory, profile_id: str) -> bool:
    with transaction(sessions) as session:
        return delete(session, engine, profile_id)


def import_parsed(
    engine: Engine,
    sessions: SessionFactory,
    parsed: ParsedFile[Profile],
    *,
    allow_partial: bool,
    progress: Progress | None = None,
    office: str | None = DEFAULT_OFFICE,
) -> ImportReport:
    """Store a parsed file in one unit of work (the CLI: no caller, so no tenancy rule);
    new profiles are of `office`."""
    with transaction(sessions) as session:
        return import_rows(
            session, engine, parsed, allow_partial=allow_partial, progress=progress, office=office
        )


def import_checked(
    engine: Engine,
    sessions: SessionFactory,
    opener: Opener,
    check: FileCheck,
    *,
    allow_partial: bool,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    office: str | None = DEFAULT_OFFICE,
) -> ImportReport:
    """The CLI's streamed import (`import_stream`) of a file it checked, in one unit of
    work; new profiles are of `office`."""
    with transaction(sessions) as session:
        return import_stream(
            session,
            engine,
            opener,
            check,
            allow_partial=allow_partial,
            progress=progress,
            chunk_rows=chunk_rows,
            office=office,
        )


def import_file(
    engine: Engine,
    sessions: SessionFactory,
    data: bytes,
    *,
    format: FileFormat = "auto",
    encoding: str | None = None,
    filename: str | None = None,
    allow_partial: bool = False,
    max_rows: int = 100_000,
    progress: Progress | None = None,
) -> ImportReport:
    """Parse, validate and store a JSONL / CSV file. With bad rows nothing is stored unless
    `allow_partial`; raises ValidationFailed with the per-row report."""
    parsed = parse_profiles(
        data, format=format, encoding=encoding, filename=filename, max_rows=max_rows
    )
    return import_parsed(engine, sessions, parsed, allow_partial=allow_partial, progress=progress)
