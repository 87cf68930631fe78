"""Training data for the re-ranker, from history alone: hold out a seeded share of past
interaction groups (a project, a meeting context) the way the evaluation holds out
projects, and ask, for each participant, who its partners in the held-out groups were,
with the network rebuilt without them. Nothing outside the interactions is read, so no
evaluation query can leak in."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.graph import Edge


@dataclass
class TrainingQuery:
    node: int
    relevant: set[int]
    groups: list[str] = field(default_factory=list)


@dataclass
class Holdout:
    kept: list[Edge]
    queries: list[TrainingQuery]
    held_groups: int
    members: dict[str, set[int]] = field(default_factory=dict)


def group_of(e: Edge) -> str:
    """Interactions that share a context (a project, an event) belong together; one without
    a context is a group of its own."""
    return e.context or f"pair:{min(e.a, e.b)}-{max(e.a, e.b)}"


def sample_holdout(
    edges: Sequence[Edge],
    *,
    seed: int = 0,
    fraction: float = 0.15,
    max_queries: int = 1500,
    max_group: int = 50,
) -> Holdout:
    return sample_holdouts(
        edges,
        seed=seed,
        fraction=fraction,
        max_queries=max_queries,
        max_group=max_group,
        rounds=1,
    )[0]


def sample_holdouts(
    edges: Sequence[Edge],
    *,
    seed: int = 0,
    fraction: float = 0.15,
    max_queries: int = 1500,
    max_group: int = 50,
    rounds: int = 1,
) -> list[Holdout]:
    """A seeded `fraction` of the groups held out, split into `rounds` disjoint parts,
    each held out on its own (one training world per part, the rest of history kept):
    with several rounds, as many queries as one round at `fraction`, each asked in a world
    that misses only `fraction / rounds` of the history, closer to the world the model
    then serves. `max_queries` bounds the queries of all rounds together."""
    groups: dict[str, set[int]] = defaultdict(set)
    for e in edges:
        if e.kind != "declined":
            g = group_of(e)
            groups[g].update((e.a, e.b))
    eligible = sorted(g for g, members in groups.items() if 2 <= len(members) <= max_group)
    rng = random.Random(seed)
    sampled = rng.sample(eligible, k=round(fraction * len(eligible)))
    rounds = max(1, min(rounds, len(sampled))) if sampled else 1
    out = []
    for r in range(rounds):
        held = set(sampled[r::rounds])
        kept = [e for e in edges if group_of(e) not in held]
        relevant: dict[int, set[int]] = defaultdict(set)
        member_of: dict[int, list[str]] = defaultdict(list)
        for g in sorted(held):
            for x in groups[g]:
                relevant[x].update(groups[g] - {x})
                member_of[x].append(g)
        queries = [TrainingQuery(x, relevant[x], member_of[x]) for x in sorted(relevant)]
        cap = max_queries // rounds + (1 if r < max_queries % rounds else 0)
        if len(queries) > cap:
            queries = rng.sample(queries, k=cap)
            queries.sort(key=lambda q: q.node)
        out.append(
            Holdout(
                kept=kept,
                queries=queries,
                held_groups=len(held),
                members={g: groups[g] for g in held},
            )
        )
    return out


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip()}


def group_lines(texts: Sequence[str]) -> set[str]:
    """Lines every member's description has: the held-out group's own text (a project's
    title and topic), as far as the descriptions tell."""
    if not texts:
        return set()
    common = _lines(texts[0])
    for text in texts[1:]:
        common &= _lines(text)
    return common


def strip_lines(text: str, lines: set[str]) -> str:
    """The query's description without the held-out groups' lines: the text of a held-out
    project must not tell the model who took part in it (in the evaluation, no held-out
    project's text is in any profile)."""
    return "\n".join(line for line in text.splitlines() if line.strip() not in lines)
