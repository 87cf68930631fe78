"""The demo (service.demo.seed): corpus, history, two working console sign-ins and a demo
event that is already scheduled, with the member firm in it; loading it again adds nothing
but new passwords."""

from __future__ import annotations

from pathlib import Path

from models.encoders import HashingEncoder
from service.accounts import service as accounts
from service.demo import seed
from service.events import service as events
from service.resources import open_resources
from tests.support.app import make_settings


def test_demo_loads_a_scheduled_event_and_sign_ins(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with open_resources(settings, encoder=HashingEncoder(dim=64)) as resources:
        resources.engine.reconcile()
        first = seed.load(resources)
        again = seed.load(resources)
        policy = accounts.Policy()
        with resources.sessions() as s:
            for sign_in in again.sign_ins:
                outcome = accounts.sign_in(s, sign_in.email, sign_in.password, "test", policy)
                assert outcome.user is not None, sign_in
                assert outcome.user.role == sign_in.role
            stale = first.sign_ins[0]
            assert accounts.sign_in(s, stale.email, stale.password, "test", policy).user is None
            organizer_user = accounts.find_user(s, seed.ORGANIZER_EMAIL)
            assert organizer_user is not None
            organizer = accounts.principal_for_user(organizer_user)
            row = events.get(s, organizer, first.event_id)
    assert first.created == 184 and first.interactions == 154
    assert again.created == 0 and again.interactions == 0
    assert again.event_id == first.event_id and again.meetings == first.meetings > 0
    assert row.name == seed.EVENT_NAME and row.schedule is not None
    meetings = row.schedule["meetings"]
    assert any(seed.MEMBER_PROFILE in (m["a"], m["b"]) for m in meetings)
    groups = {p["id"]: p["group"] for p in row.data["participants"]}
    assert all({groups[m["a"]], groups[m["b"]]} == {"buyer", "supplier"} for m in meetings)
