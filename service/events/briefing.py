"""What a printed agenda tells each participant beyond the schedule (service.io.exports
`AgendaNotes`): the organizations behind the participants (their profiles), the language
each participant reads, and one line on why each pair meets: the match reason from the
reader's side, in the reader's language, computed by the engine when its index is loaded.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

import numpy as np

from models.events import Event, Meeting
from service.engine import Engine
from service.io.exports import AgendaNotes, Lang, Organization
from service.store import profiles
from service.store.db import Session

AgendaLang = Literal["auto", "ja", "en"]


def reader_lang(country: str | None, languages: list[str]) -> Lang:
    """The language an agenda speaks to a participant: Japanese for a Japanese
    organization (or one that works in Japanese and names no country), else English."""
    if country == "JP" or (country is None and "ja" in languages):
        return "ja"
    return "en"


def agenda_notes(
    session: Session,
    engine: Engine | None,
    event: Event,
    meetings: list[Meeting],
    lang: AgendaLang = "auto",
) -> AgendaNotes:
    """The notes of an event's agendas. Participants without a profile read Japanese
    unless `lang` says otherwise (the event is a 商談会; its headings are bilingual)."""
    orgs: dict[str, Organization] = {}
    langs: dict[str, Lang] = {}
    for p in event.participants:
        data = profiles.data_of(session, p.profile_id) if p.profile_id else None
        if data is not None:
            orgs[p.id] = Organization(data["name"], data.get("kind"), data.get("country"))
        auto = reader_lang(data.get("country"), data.get("languages", [])) if data else "ja"
        langs[p.id] = auto if lang == "auto" else lang
    why: dict[tuple[str, str], str] = {}
    if engine is not None and engine.ready:
        partners: dict[str, set[str]] = defaultdict(set)
        for m in meetings:
            partners[m.a].add(m.b)
            partners[m.b].add(m.a)
        for reader, others in partners.items():
            why.update(_reasons(engine, event, reader, sorted(others), langs[reader]))
    return AgendaNotes(organizations=orgs, langs=langs, why=why)


def _reasons(
    engine: Engine, event: Event, reader: str, partners: list[str], lang: Lang
) -> dict[tuple[str, str], str]:
    """(reader, partner) -> the strongest reason the engine gives for the partner, from the
    reader's profile: one matching call per reader, among its partners only."""
    record = engine.record(event.participant(reader).profile_id or "")
    if record is None:
        return {}
    by_pk: dict[int, str] = {}
    for pid in partners:
        rec = engine.record(event.participant(pid).profile_id or "")
        if rec is not None:
            by_pk[rec.pk] = pid
    if not by_pk:
        return {}
    within = np.asarray(sorted(by_pk), dtype=np.int64)
    found = engine.matches_for(record, "partner", k=len(by_pk), lang=lang, within=within)
    return {
        (reader, by_pk[m.record.pk]): m.reasons[0].text
        for m in found
        if m.reasons and m.record.pk in by_pk
    }
