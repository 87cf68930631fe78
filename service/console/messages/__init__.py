"""The console's message catalogs, one module per area of pages (`core` for the shell,
sign-in and profile page). Keys are dotted (`area.what`); values are plain text with
`{name}` fields. Every key exists in both languages, and no two areas define the same key
(checked here, at import, and by tests)."""

from __future__ import annotations

from service.console.messages import admin, core, exchange, member, organizer, reports, schedule

AREAS = (
    core,
    member,
    organizer,
    exchange,
    admin,
    schedule,
    reports,
)  # schedule: the schedule pages; reports


def _merge(name: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for area in AREAS:
        catalog: dict[str, str] = getattr(area, name)
        twice = merged.keys() & catalog.keys()
        if twice:
            raise RuntimeError(f"message keys defined twice ({area.__name__}): {sorted(twice)}")
        merged.update(catalog)
    return merged


JA: dict[str, str] = _merge("JA")
EN: dict[str, str] = _merge("EN")
