"""Cross-lingual matching through the real model: 51 organizations, each described once in
Japanese and once in English, Italian or Korean by a different writer (different wording,
not a translation). From either side, the counterpart must come first.

`python -m tests.service.test_crosslingual` prints top-1 and MRR per language."""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from models.encoders import Encoder
from models.profile import Profile
from service.engine import Engine
from service.profiles.service import save_profiles
from tests.support.db import sessions_for
from tests.support.env import ROOT

PAIRS = ROOT / "tests" / "data" / "crosslingual_pairs.jsonl"


def _profiles() -> tuple[list[Profile], dict[str, str], dict[str, str]]:
    profiles: list[Profile] = []
    counterpart: dict[str, str] = {}
    lang: dict[str, str] = {}
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        a, b = f"{row['id']}-ja", f"{row['id']}-{row['other_lang']}"
        for pid, side in ((a, row["ja"]), (b, row["other"])):
            profiles.append(Profile.model_validate({"id": pid, "kind": "firm", **side}))
        counterpart[a], counterpart[b] = b, a
        lang[a], lang[b] = "ja", row["other_lang"]
    return profiles, counterpart, lang


def crosslingual_figures(encoder: Encoder, workdir: Path) -> dict[str, Any]:
    profiles, counterpart, lang = _profiles()
    sessions = sessions_for(f"sqlite:///{workdir / 'x.db'}")
    engine = Engine(encoder, sessions, workdir / "index")
    engine.reconcile()
    save_profiles(engine, sessions, profiles)
    engine.refit_lexical()
    ranks: dict[str, list[int]] = defaultdict(list)
    for p in profiles:
        rec = engine.record(p.id)
        assert rec is not None
        found = [
            m.record.profile.id
            for m in engine.matches_for(rec, "partner", k=10, explain_results=False)
        ]
        rank = found.index(counterpart[p.id]) + 1 if counterpart[p.id] in found else 0
        pair_lang = lang[p.id] if lang[p.id] != "ja" else lang[counterpart[p.id]]
        ranks[f"{lang[p.id]}->{lang[counterpart[p.id]]}"].append(rank)
        ranks[f"pair:{pair_lang}"].append(rank)
        ranks["all"].append(rank)
    return {
        key: {
            "n": len(r),
            "top1": round(sum(x == 1 for x in r) / len(r), 4),
            "mrr": round(sum(1 / x for x in r if x) / len(r), 4),
        }
        for key, r in sorted(ranks.items())
    }


@pytest.mark.real_model
def test_counterpart_ranks_first_across_languages(real_encoder: Encoder, tmp_path: Path) -> None:
    figures = crosslingual_figures(real_encoder, tmp_path)
    assert figures["all"]["n"] == 102
    assert figures["all"]["top1"] >= 0.93, figures
    assert figures["all"]["mrr"] >= 0.95, figures
    for direction in ("ja->en", "ja->it", "ja->ko", "en->ja", "it->ja", "ko->ja"):
        assert figures[direction]["top1"] >= 0.85, (direction, figures[direction])


if __name__ == "__main__":
    from models.encoders import SentenceTransformerEncoder

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(crosslingual_figures(SentenceTransformerEncoder(), Path(tmp)), indent=1))
