"""Calibrate the similarity thresholds behind match reasons and the buyer's competitor rule
(models.matching.CALIBRATIONS) for an embedding model, on the demo corpus and tests/data.

    .venv/bin/python scripts/calibrate_reasons.py [--model use-multilingual-v3 | hashing]
                                                  [--pairs 4000] [--seed 0] [--json]

A reason may name a pair ("your need X ↔ their offer Y") only when the pair is closer
than unrelated organizations' pairs usually are. For each threshold the script measures
the similarity among *unrelated* pairs of demo organizations (no shared industry, no past
interaction, drawn with a fixed seed) and sets the threshold at their 95th percentile:
an unrelated pair passes it 5 % of the time. It then shows how many *related* pairs
pass:

- item: the best item pair between one side's needs and the other's offers. Related: the
  demo's past deals, collaborations and meetings (best pair either way), and each offer /
  need of tests/data/crosslingual_pairs.jsonl against its translation.
- topic: the overall texts. Related: the same past interactions.
- demand: one side's offers (as one text) against the other's needs. Related: the same.
- same_offer: both sides' offers (as one text). Related: the organizations of
  tests/data/demo_topics.json that make the same product in another language.
- text_topic / text_item: a free-text query against an organization's overall text / its
  closest offer. Related: the three organizations each query of tests/data/demo_topics.json
  is written for (in three languages); unrelated: every other organization.

The figures printed are the ones quoted in models.matching; run it again after changing
the model or the corpus, and copy the thresholds there.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

from models.encoders import DEFAULT_MODEL, Encoder, HashingEncoder, SentenceTransformerEncoder
from models.matching import best_item_match
from models.profile import Profile, overall_text

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "service" / "demo"
DATA = ROOT / "tests" / "data"
RELATED = frozenset({"deal", "collaboration", "follow_up", "meeting"})


def _encode(encoder: Encoder, texts: Sequence[str]) -> dict[str, np.ndarray]:
    unique = list(dict.fromkeys(t for t in texts if t))
    vectors = encoder.encode(unique, batch_size=64)
    return dict(zip(unique, vectors, strict=True))


def _pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _share_above(values: Sequence[float], t: float) -> float:
    return float(np.mean(np.asarray(values) >= t)) if values else float("nan")


def calibrate(encoder: Encoder, pairs: int, seed: int) -> dict[str, object]:
    profiles = [
        Profile.model_validate(json.loads(line))
        for line in (DEMO / "organizations.jsonl").read_text().splitlines()
        if line.strip()
    ]
    by_id = {p.id: p for p in profiles}
    history = [json.loads(line) for line in (DEMO / "history.jsonl").read_text().splitlines()]
    met = {frozenset((h["a"], h["b"])) for h in history}
    related = sorted(
        {frozenset((h["a"], h["b"])) for h in history if h["kind"] in RELATED},
        key=sorted,
    )
    crosslingual = [
        json.loads(line) for line in (DATA / "crosslingual_pairs.jsonl").read_text().splitlines()
    ]
    topics = json.loads((DATA / "demo_topics.json").read_text())

    texts: list[str] = []
    for p in profiles:
        texts += [overall_text(p), "; ".join(p.offers), "; ".join(p.needs), *p.offers, *p.needs]
    for row in crosslingual:
        for side in (row["ja"], row["other"]):
            texts += [*side.get("offers", []), *side.get("needs", [])]
    example = ("欧州の販売代理店", "Traction inverters for commercial EVs")
    texts += list(example)
    texts += [t["query_ja"] for t in topics]
    started = time.perf_counter()
    vec = _encode(encoder, texts)
    took = time.perf_counter() - started

    def items(values: Sequence[str]) -> np.ndarray | None:
        return np.stack([vec[v] for v in values]) if values else None

    def facet(values: Sequence[str]) -> np.ndarray | None:
        return vec["; ".join(values)] if values else None

    def best_item(a: Profile, b: Profile) -> float | None:
        sims = []
        for q_items, c_items in ((a.needs, b.offers), (a.offers, b.needs)):
            m = best_item_match(q_items, items(q_items), c_items, items(c_items))
            if m is not None:
                sims.append(m.similarity)
        return max(sims) if sims else None

    def cos(x: np.ndarray | None, y: np.ndarray | None) -> float | None:
        return None if x is None or y is None else float(x @ y)

    def demand(a: Profile, b: Profile) -> float | None:
        found = [
            s
            for s in (
                cos(facet(a.offers), facet(b.needs)),
                cos(facet(b.offers), facet(a.needs)),
            )
            if s is not None
        ]
        return max(found) if found else None

    rng = random.Random(seed)
    unrelated: list[tuple[Profile, Profile]] = []
    tries = 0
    while len(unrelated) < pairs and tries < pairs * 50:
        tries += 1
        a, b = rng.sample(profiles, 2)
        shared = {x.casefold() for x in a.industries} & {x.casefold() for x in b.industries}
        if shared or frozenset((a.id, b.id)) in met or a.website == b.website:
            continue
        unrelated.append((a, b))
    positives = [(by_id[a], by_id[b]) for a, b in (sorted(p) for p in related)]

    def collect(fn: object, data: Sequence[tuple[Profile, Profile]]) -> list[float]:
        out = []
        for a, b in data:
            v = fn(a, b)  # type: ignore[operator]
            if v is not None:
                out.append(float(v))
        return out

    def topic(a: Profile, b: Profile) -> float:
        return float(vec[overall_text(a)] @ vec[overall_text(b)])

    translated: list[float] = []
    for row in crosslingual:
        for key in ("offers", "needs"):
            for x, y in zip(row["ja"].get(key, []), row["other"].get(key, []), strict=False):
                translated.append(float(vec[x] @ vec[y]))

    same_product: list[float] = []
    other_product: list[float] = []
    groups = [[t[lang] for lang in ("ja", "en", "it") if t.get(lang) in by_id] for t in topics]
    for g in groups:
        for x, y in combinations(g, 2):
            s = cos(facet(by_id[x].offers), facet(by_id[y].offers))
            if s is not None:
                same_product.append(s)
    for g1, g2 in combinations(groups, 2):
        for x in g1:
            for y in g2:
                s = cos(facet(by_id[x].offers), facet(by_id[y].offers))
                if s is not None:
                    other_product.append(s)
    other_product += collect(lambda a, b: cos(facet(a.offers), facet(b.offers)), unrelated)

    text_topic_pos: list[float] = []
    text_topic_neg: list[float] = []
    text_item_pos: list[float] = []
    text_item_neg: list[float] = []
    for t in topics:
        q = vec[t["query_ja"]]
        right = {t.get(lang) for lang in ("ja", "en", "it")}
        for p in profiles:
            sim = float(q @ vec[overall_text(p)])
            item = float(np.max(items(p.offers) @ q)) if p.offers else None
            (text_topic_pos if p.id in right else text_topic_neg).append(sim)
            if item is not None:
                (text_item_pos if p.id in right else text_item_neg).append(item)

    rows: dict[str, dict[str, object]] = {}

    def row(name: str, negatives: list[float], related_sets: dict[str, list[float]]) -> None:
        t = round(_pct(negatives, 95), 2)
        rows[name] = {
            "threshold": t,
            "unrelated": {
                "n": len(negatives),
                "p50": round(_pct(negatives, 50), 3),
                "p95": round(_pct(negatives, 95), 3),
                "p99": round(_pct(negatives, 99), 3),
            },
            "related_passing": {
                k: {"n": len(v), "share": round(_share_above(v, t), 3)}
                for k, v in related_sets.items()
            },
        }

    row(
        "item",
        collect(best_item, unrelated),
        {"past_interactions": collect(best_item, positives), "translations": translated},
    )
    row("topic", collect(topic, unrelated), {"past_interactions": collect(topic, positives)})
    row("demand", collect(demand, unrelated), {"past_interactions": collect(demand, positives)})
    row("same_offer", other_product, {"same_product": same_product})
    row("text_topic", text_topic_neg, {"written_for": text_topic_pos})
    row("text_item", text_item_neg, {"written_for": text_item_pos})
    return {
        "model": encoder.model_id,
        "profiles": len(profiles),
        "unrelated_pairs": len(unrelated),
        "related_pairs": len(positives),
        "example": {
            "pair": list(example),
            "similarity": round(float(vec[example[0]] @ vec[example[1]]), 3),
        },
        "encode_s": round(took, 1),
        "machine": platform.platform(),
        "thresholds": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a model setting, or 'hashing'")
    parser.add_argument("--pairs", type=int, default=4000, help="unrelated pairs to draw")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    encoder: Encoder = (
        HashingEncoder(dim=64)
        if args.model == "hashing"
        else SentenceTransformerEncoder(args.model)
    )
    result = calibrate(encoder, args.pairs, args.seed)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(
        f"model {result['model']}: {result['profiles']} demo profiles, "
        f"{result['unrelated_pairs']} unrelated pairs, {result['related_pairs']} related pairs"
    )
    print(f"example {result['example']}")
    for name, r in result["thresholds"].items():  # type: ignore[attr-defined]
        print(
            f"{name:<11} threshold {r['threshold']:.2f}  unrelated {r['unrelated']}  "
            f"related passing {r['related_passing']}"
        )


if __name__ == "__main__":
    main()
