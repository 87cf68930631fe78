"""Interactions: past collaborations, meetings, follow-ups, deals and declines between
profiles. Imported like profiles (JSONL / CSV, all-or-nothing unless asked otherwise,
re-imports change nothing); the ranking learns from them.

As with profiles, a write commits the caller's session before the engine reloads the
history from the database (see `service.profiles.service`)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ValidationError

from models.profile import MAX_ID
from service.auth import Principal
from service.engine import Engine
from service.errors import NotFound, ValidationFailed
from service.io.imports import Interaction, ParsedFile
from service.store import interactions, profiles
from service.store.changes import HISTORY, record_changes
from service.store.db import Session, SessionFactory, transaction
from service.store.tables import InteractionRow


@dataclass
class InteractionReport:
    format: str = "json"
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: int = 0
    took_s: float = 0.0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def interaction_key(i: Interaction) -> str:
    """Identity of an interaction: the unordered pair, kind, context and date."""
    a, b = sorted((i.a, i.b))
    raw = "\x1f".join([a, b, i.kind, i.context, i.at.isoformat() if i.at else ""])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def save(
    session: Session,
    engine: Engine,
    parsed: ParsedFile[Interaction],
    *,
    allow_partial: bool = False,
) -> InteractionReport:
    """Store interactions whose profiles exist; unknown profile ids are row errors."""
    started = time.perf_counter()
    report = InteractionReport(
        format=parsed.format, rows=parsed.total_rows, warnings=list(parsed.warnings)
    )
    errors = [e.to_dict() for e in parsed.errors]
    with engine.write_lock:
        known = profiles.known_ids(session, {x for _, i in parsed.items for x in (i.a, i.b)})
        good: list[tuple[str, Interaction]] = []
        for row, item in parsed.items:
            missing = [f for f in ("a", "b") if getattr(item, f) not in known]
            for f in missing:
                errors.append(
                    {
                        "row": row,
                        "field": f,
                        "reason": f"no profile with id '{getattr(item, f)}'",
                    }
                )
            if not missing:
                good.append((interaction_key(item), item))
        report.rejected = len({e["row"] for e in errors})
        report.errors = errors[:1000]
        if errors and not allow_partial:
            raise ValidationFailed.rows(
                report.rejected, report.rows, report.errors, report.to_dict()
            )
        present = interactions.present_keys(session, [k for k, _ in good])
        fresh: dict[str, Interaction] = {}
        for key, item in good:
            if key in present or key in fresh:
                report.unchanged += 1
            else:
                fresh[key] = item
        interactions.add_many(
            session,
            (
                InteractionRow(key=k, a=i.a, b=i.b, kind=i.kind, context=i.context, at=i.at)
                for k, i in fresh.items()
            ),
        )
        report.created = len(fresh)
        if fresh:
            record_changes(session, HISTORY)
        session.commit()  # the engine reads the history from the database
        if report.created:
            engine.load_history()
    report.took_s = round(time.perf_counter() - started, 3)
    return report


def record_one(
    session: Session, engine: Engine, caller: Principal, body: dict[str, Any]
) -> tuple[Interaction, bool]:
    """Store one interaction; (it, whether it is new)."""
    caller.require("admin", "organizer")
    try:
        item = Interaction.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic("the interaction is invalid", exc) from exc
    parsed = ParsedFile(
        items=[(1, item)], errors=[], format="jsonl", encoding="utf-8", total_rows=1
    )
    report = save(session, engine, parsed)
    return item, report.created == 1


def history(
    session: Session, caller: Principal, profile_id: str, limit: int
) -> Sequence[InteractionRow]:
    """A profile's interactions, newest first (members: their own profile's only)."""
    if caller.role == "member" and not caller.owns(profile_id):
        caller.require("admin", "organizer")
    pk = profiles.pk_of(session, profile_id) if len(profile_id) <= MAX_ID else None
    if pk is None:
        raise NotFound.for_id("profile", profile_id, MAX_ID)
    return interactions.of_profile(session, profile_id, limit)


# ------------------------------------------------------- for callers outside a request


def save_interactions(
    engine: Engine,
    sessions: SessionFactory,
    parsed: ParsedFile[Interaction],
    *,
    allow_partial: bool = False,
) -> InteractionReport:
    """`save` in one unit of work of its own (the CLI, offline tools)."""
    with transaction(sessions) as session:
        return save(session, engine, parsed, allow_partial=allow_partial)
