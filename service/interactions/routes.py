"""Interactions: past collaborations, meetings, follow-ups, deals and declines between
profiles. Imported like profiles (JSONL / CSV, all-or-nothing unless asked otherwise,
re-imports change nothing); the ranking learns from them."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool

from service.auth import CallerDep
from service.engine import Engine
from service.errors import NotFound, ValidationFailed
from service.io.imports import (
    Interaction,
    ParsedFile,
    parse_interactions,
)
from service.profiles.routes import parse_upload, row_error
from service.store.db import transaction
from service.store.tables import InteractionRow, ProfileRow
from service.sync import HISTORY, record_changes

router = APIRouter(prefix="/v1", tags=["interactions"])


@dataclass
class InteractionReport:
    format: str = "json"
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: int = 0
    took_s: float = 0.0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def interaction_key(i: Interaction) -> str:
    """Identity of an interaction: the unordered pair, kind, context and date."""
    a, b = sorted((i.a, i.b))
    raw = "\x1f".join([a, b, i.kind, i.context, i.at.isoformat() if i.at else ""])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def save_interactions(
    engine: Engine,
    session_factory: Any,
    parsed: ParsedFile[Interaction],
    *,
    allow_partial: bool = False,
) -> InteractionReport:
    """Store interactions whose profiles exist; unknown profile ids are row errors."""
    started = time.perf_counter()
    report = InteractionReport(format=parsed.format, rows=parsed.total_rows)
    errors = [row_error(e) for e in parsed.errors]
    with engine.write_lock:
        with transaction(session_factory) as session:
            ids = {x for _, i in parsed.items for x in (i.a, i.b)}
            known: set[str] = set()
            id_list = list(ids)
            for start in range(0, len(id_list), 500):
                known.update(
                    session.scalars(
                        select(ProfileRow.id).where(ProfileRow.id.in_(id_list[start : start + 500]))
                    )
                )
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
            present: set[str] = set()
            keys = [k for k, _ in good]
            for start in range(0, len(keys), 500):
                present.update(
                    session.scalars(
                        select(InteractionRow.key).where(
                            InteractionRow.key.in_(keys[start : start + 500])
                        )
                    )
                )
            fresh: dict[str, Interaction] = {}
            for key, item in good:
                if key in present or key in fresh:
                    report.unchanged += 1
                else:
                    fresh[key] = item
            session.add_all(
                InteractionRow(key=k, a=i.a, b=i.b, kind=i.kind, context=i.context, at=i.at)
                for k, i in fresh.items()
            )
            report.created = len(fresh)
            if fresh:
                record_changes(session, HISTORY)
        if report.created:
            engine.load_history()
    report.took_s = round(time.perf_counter() - started, 3)
    return report


def interaction_out(row: InteractionRow) -> dict[str, Any]:
    return {
        "a": row.a,
        "b": row.b,
        "kind": row.kind,
        "context": row.context,
        "at": row.at.isoformat() if row.at else None,
    }


@router.post("/interactions", status_code=201, summary="Record one interaction")
def create_interaction(
    body: dict[str, Any], request: Request, caller: CallerDep, response: Response
) -> dict[str, Any]:
    caller.require("admin", "organizer")
    try:
        item = Interaction.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic("the interaction is invalid", exc) from exc
    parsed = ParsedFile(
        items=[(1, item)], errors=[], format="jsonl", encoding="utf-8", total_rows=1
    )
    state = request.app.state
    report = save_interactions(state.engine, state.sessions, parsed)
    if report.unchanged:
        response.status_code = 200
    return {"created": report.created == 1, "interaction": item.model_dump(mode="json")}


@router.post("/interactions/import", summary="Bulk import interactions (JSONL or CSV)")
async def import_interactions(
    request: Request,
    caller: CallerDep,
    format: Literal["auto", "jsonl", "csv"] = "auto",
    encoding: Annotated[str | None, Query(max_length=32)] = None,
    allow_partial: bool = False,
) -> dict[str, Any]:
    caller.require("admin", "organizer")
    parsed = await parse_upload(request, parse_interactions, format, encoding)
    state = request.app.state
    report = await run_in_threadpool(
        save_interactions, state.engine, state.sessions, parsed, allow_partial=allow_partial
    )
    return {"status": "succeeded", "report": report.to_dict()}


@router.get("/profiles/{profile_id}/interactions", summary="A profile's interaction history")
def list_interactions(
    profile_id: str,
    request: Request,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    if caller.role == "member" and not caller.owns(profile_id):
        caller.require("admin", "organizer")
    with request.app.state.sessions() as session:
        if session.scalar(select(ProfileRow.pk).where(ProfileRow.id == profile_id[:128])) is None:
            raise NotFound(f"no profile with id '{profile_id[:128]}'")
        rows: Sequence[InteractionRow] = session.scalars(
            select(InteractionRow)
            .where(or_(InteractionRow.a == profile_id, InteractionRow.b == profile_id))
            .order_by(InteractionRow.pk.desc())
            .limit(limit)
        ).all()
        return {"items": [interaction_out(r) for r in rows], "count": len(rows)}
