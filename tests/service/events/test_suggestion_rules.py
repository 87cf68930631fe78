"""Suggested pairs obey the event's rules (issue 19, item 5): groups that may not meet,
blocked pairs, pairs that met before (unless repeats are allowed) and pairs someone
refused are never suggested — over the API and in the generator itself."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.events import rules
from service.events.service import suggest_pairs
from tests.support.app import Api
from tests.support.samples import SAMPLE

PEOPLE = [
    {"id": "gear", "group": "supplier", "profile_id": "jp-1"},
    {"id": "branch", "group": "supplier", "profile_id": "jp-2"},
    {"id": "veneto", "group": "buyer", "profile_id": "it-1"},
    {"id": "uni", "group": "buyer", "profile_id": "uni-1"},
    {"id": "bio", "group": "supplier", "profile_id": "kr-1"},
]


def _doc(**extra: Any) -> dict[str, Any]:
    return {"slots": 4, "tables": 2, "participants": PEOPLE, **extra}


@pytest.fixture
def loaded(api: Api) -> Api:
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in SAMPLE).encode()
    assert api.post("/v1/profiles/import", content=data, headers=api.h()).status_code == 200
    return api


def _pairs(found: list[dict[str, Any]]) -> set[frozenset[str]]:
    return {frozenset((s["a"], s["b"])) for s in found}


def test_without_rules_every_pair_may_be_suggested(loaded: Api) -> None:
    engine = loaded.client.app.state.engine  # type: ignore[attr-defined]
    found = _pairs(suggest_pairs(engine, _doc(), 10))
    # same-group pairs show up when nothing forbids them (so the checks below can fail)
    assert frozenset(("gear", "branch")) in found or frozenset(("gear", "bio")) in found
    assert len(found) >= 5


def test_generator_obeys_allow_blocked_met_before_and_no(loaded: Api) -> None:
    engine = loaded.client.app.state.engine  # type: ignore[attr-defined]
    doc = _doc(
        allow=[["buyer", "supplier"]],
        blocked=[["gear", "veneto"]],
        met_before=[["gear", "uni"]],
        wishes=[{"from": "bio", "to": "veneto", "level": "no"}],
        overrides=[{"a": "branch", "b": "uni", "level": "no"}],
    )
    found = suggest_pairs(engine, doc, 10)
    pairs = _pairs(found)
    group = {p["id"]: p["group"] for p in PEOPLE}
    assert all({group[a], group[b]} == {"buyer", "supplier"} for a, b in map(tuple, pairs))
    for forbidden in (("gear", "veneto"), ("gear", "uni"), ("bio", "veneto"), ("branch", "uni")):
        assert frozenset(forbidden) not in pairs, forbidden
    assert pairs == {frozenset(("branch", "veneto")), frozenset(("bio", "uni"))}
    # met before, but repeats allowed: suggested again
    repeat = _pairs(suggest_pairs(engine, {**doc, "allow_repeat": True}, 10))
    assert frozenset(("gear", "uni")) in repeat


def test_per_participant_counts_only_allowed_partners(loaded: Api) -> None:
    engine = loaded.client.app.state.engine  # type: ignore[attr-defined]
    found = suggest_pairs(engine, _doc(allow=[["buyer", "supplier"]]), 1)
    # one allowed partner each, although the best-scoring partner may be in the same group
    assert {p["id"] for p in PEOPLE} <= {x for s in found for x in (s["a"], s["b"])}


def test_the_api_suggestions_obey_the_rules(loaded: Api) -> None:
    body = {"name": "rules", **_doc(allow=[["buyer", "supplier"]], blocked=[["bio", "uni"]])}
    r = loaded.post("/v1/events", json=body, headers=loaded.h("organizer"))
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    got = loaded.post(f"/v1/events/{eid}/suggestions", headers=loaded.h("organizer")).json()
    pairs = _pairs(got["suggestions"])
    assert pairs and frozenset(("bio", "uni")) not in pairs
    assert all(
        len({("supplier" if x in ("gear", "branch", "bio") else "buyer") for x in p}) == 2
        for p in pairs
    )


def test_rule_predicate() -> None:
    may = rules.suggestable_in(_doc(allow=[["buyer", "supplier"]], met_before=[["gear", "veneto"]]))
    assert may("branch", "veneto") and may("veneto", "branch")
    assert not may("gear", "veneto") and not may("gear", "bio") and not may("gear", "gear")
    assert not may("gear", "ghost")
