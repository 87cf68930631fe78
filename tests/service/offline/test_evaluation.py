"""The evaluation command end to end on a small hand-written fixture whose answers are
known, and the guarantee that rankers never read a query's relevant list."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.encoders import HashingEncoder
from service import cli
from service.offline.evaluation import QuerySpec, evaluate, read_queries, score_runs
from tests.support.env import ROOT

DATA = ROOT / "tests" / "data" / "eval"


def _dcg(ranks: list[int]) -> float:
    return sum(1 / math.log2(r + 1) for r in ranks)


def test_evaluate_on_known_fixture() -> None:
    result = evaluate(
        DATA / "eval_profiles.jsonl",
        DATA / "eval_interactions.jsonl",
        DATA / "queries.jsonl",
        k=10,
        encoder=HashingEncoder(),
    )
    assert result["setup"]["profiles"] == 8 and result["setup"]["interactions"] == 7
    assert result["setup"]["ranker"]["method"] == "hand"  # far too little history to learn
    tasks = result["tasks"]
    assert set(tasks) == {"partner", "consortium"} and set(result["slices"]) == {"academia"}
    assert tasks["partner"]["system"]["n"] == 3 and tasks["consortium"]["system"]["n"] == 1
    # popularity by hand: u1 (3 interactions), then u2, f1, f2, r1 (2), then f3, f4, r2 (1)
    pop = tasks["partner"]["popularity"]
    expected_ndcg = (
        _dcg([3])  # partner:f3 -> f1 at 3
        + _dcg([4, 7]) / _dcg([1, 2])  # partner:f4 -> f2 at 4, r2 at 7
        + _dcg([4])  # academia:f4 -> r2 at 4 of 4
    ) / 3
    assert pop["ndcg"] == pytest.approx(expected_ndcg, abs=1e-4)
    assert pop["mrr"] == pytest.approx((1 / 3 + 1 / 4 + 1 / 4) / 3, abs=1e-4)
    assert pop["recall"] == 1.0
    cons = tasks["consortium"]["popularity"]
    assert cons["ndcg"] == pytest.approx(_dcg([1, 3]) / _dcg([1, 2]), abs=1e-4)
    assert result["slices"]["academia"]["popularity"]["mrr"] == pytest.approx(0.25)
    # the system uses text and the network: f3's partner's partner f1 comes first or second
    assert result["slices"]["academia"]["system"]["recall"] == 1.0
    assert tasks["partner"]["system"]["mrr"] >= 0.5
    assert result["all"]["system"]["ndcg"] > result["all"]["random"]["ndcg"] - 1e-9
    for method in ("system", "system_diverse", "random", "popularity", "tfidf", "dense"):
        assert result["all"][method]["n"] == 4


@pytest.mark.parametrize("history", ["none", "empty"])
def test_evaluate_without_history(history: str, tmp_path: Path) -> None:
    """Issue 20.2: text matching alone (no interactions file, or an empty one) evaluates
    with the hand weights and the network features off."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = evaluate(
        DATA / "eval_profiles.jsonl",
        None if history == "none" else empty,
        DATA / "queries.jsonl",
        encoder=HashingEncoder(),
    )
    setup = result["setup"]
    assert (setup["interactions"], setup["ranker"]["method"]) == (0, "hand")
    assert result["all"]["system"]["n"] == 4
    assert result["all"]["popularity"]["recall"] == 0.0  # nothing is popular without history
    assert result["all"]["system"]["recall"] > 0.0


def test_evaluate_command_without_interactions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "models.encoders.SentenceTransformerEncoder", lambda *a, **k: HashingEncoder()
    )
    args = ["evaluate", "--profiles", str(DATA / "eval_profiles.jsonl")]
    r = CliRunner().invoke(cli.app, [*args, "--queries", str(DATA / "queries.jsonl"), "--json"])
    assert r.exit_code == 0, r.output
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert last["setup"]["interactions"] == 0 and last["all"]["system"]["n"] == 4


def test_rankers_cannot_see_relevant() -> None:
    queries = read_queries(DATA / "queries.jsonl")
    assert queries and all(not hasattr(q.spec, "relevant") for q in queries)
    with pytest.raises(ValueError):
        QuerySpec.model_validate({"id": "x", "task": "t", "text": "a", "relevant": ["u1"]})
    # a ranker's output is scored only against the held list
    runs = {"system": [["f1"], ["u1"], ["u1"], ["r2"]]}
    scored = score_runs(queries, runs, 10)
    assert scored["tasks"]["partner"]["system"]["mrr"] == pytest.approx((1 + 0 + 1) / 3, abs=1e-4)


def test_relevant_lists_do_not_change_rankings(tmp_path: Path) -> None:
    altered = tmp_path / "q.jsonl"
    rows = [json.loads(x) for x in (DATA / "queries.jsonl").read_text().splitlines()]
    for r in rows:
        r["relevant"] = ["u2"]
    altered.write_text("\n".join(json.dumps(r) for r in rows))
    a = evaluate(
        DATA / "eval_profiles.jsonl",
        DATA / "eval_interactions.jsonl",
        DATA / "queries.jsonl",
        encoder=HashingEncoder(),
        methods=("system",),
    )
    b = evaluate(
        DATA / "eval_profiles.jsonl",
        DATA / "eval_interactions.jsonl",
        altered,
        encoder=HashingEncoder(),
        methods=("system",),
    )
    assert a["setup"]["ranker"] == {
        **b["setup"]["ranker"],
        "took_s": a["setup"]["ranker"]["took_s"],
    }
    assert a["all"]["system"] != b["all"]["system"]  # the scores differ, the rankings cannot:
    assert a["tasks"]["partner"]["system"]["n"] == b["tasks"]["partner"]["system"]["n"]


def test_bad_query_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "x", "task": "t", "relevant": []}\n')
    with pytest.raises(ValueError, match=r"q\.jsonl:1"):
        read_queries(bad)


def test_evaluate_command_prints_json_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "models.encoders.SentenceTransformerEncoder", lambda *a, **k: HashingEncoder()
    )
    r = CliRunner().invoke(
        cli.app,
        [
            "evaluate",
            "--profiles",
            str(DATA / "eval_profiles.jsonl"),
            "--interactions",
            str(DATA / "eval_interactions.jsonl"),
            "--queries",
            str(DATA / "queries.jsonl"),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert last["k"] == 10 and "system" in last["tasks"]["partner"]
    assert "popularity" in r.stdout.splitlines()[1] or "popularity" in r.stdout


def test_coverage_and_diversity_are_reported() -> None:
    result = evaluate(
        DATA / "eval_profiles.jsonl",
        DATA / "eval_interactions.jsonl",
        DATA / "queries.jsonl",
        encoder=HashingEncoder(),
    )
    allm = result["all"]
    for method in ("system", "system_diverse", "popularity"):
        assert 0 < allm[method]["coverage"] <= 1 and 0 < allm[method]["top10_share"] <= 1
    # popularity shows the same few organizations to everyone
    assert allm["popularity"]["coverage"] <= allm["random"]["coverage"]


def test_diversity_discounts_the_most_active() -> None:
    import numpy as np

    from models.ranking import diversify

    scores = np.asarray([0.9, 0.8, 0.5])
    activity = np.log1p(np.asarray([1000.0, 2.0, 0.0]))
    assert np.array_equal(diversify(scores, activity, 0.0), scores)
    out = diversify(scores, activity, 0.5)
    assert out[0] < out[1] and out[2] == scores[2]


def test_diversity_strength_is_chosen_and_recorded() -> None:
    runs = {
        s: evaluate(
            DATA / "eval_profiles.jsonl",
            DATA / "eval_interactions.jsonl",
            DATA / "queries.jsonl",
            encoder=HashingEncoder(),
            methods=("system", "system_diverse"),
            diversity=s,
        )
        for s in (0.05, 1.0)
    }
    for s, result in runs.items():
        assert result["setup"]["diversity"] == s
    weak, strong = (runs[s]["all"]["system_diverse"] for s in (0.05, 1.0))
    # the strength reaches the ranking: on this fixture the stronger discount moves the
    # most active organization down and the lists change
    assert (weak["ndcg"], weak["mrr"]) != (strong["ndcg"], strong["mrr"])
    # the undiscounted system does not depend on the strength
    assert runs[0.05]["all"]["system"] == runs[1.0]["all"]["system"]
    with pytest.raises(ValueError, match="diversity"):
        evaluate(
            DATA / "eval_profiles.jsonl",
            DATA / "eval_interactions.jsonl",
            DATA / "queries.jsonl",
            encoder=HashingEncoder(),
            diversity=0.0,
        )
