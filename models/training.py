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
    groups: dict[str, set[int]] = defaultdict(set)
    for e in edges:
        if e.kind != "declined":
            g = group_of(e)
            groups[g].update((e.a, e.b))
    eligible = sorted(g for g, members in groups.items() if 2 <= len(members) <= max_group)
    rng = random.Random(seed)
    held = set(rng.sample(eligible, k=round(fraction * len(eligible))))
    kept = [e for e in edges if group_of(e) not in held]
    relevant: dict[int, set[int]] = defaultdict(set)
    member_of: dict[int, list[str]] = defaultdict(list)
    for g in sorted(held):
        for x in groups[g]:
            relevant[x].update(groups[g] - {x})
            member_of[x].append(g)
    queries = [TrainingQuery(x, relevant[x], member_of[x]) for x in sorted(relevant)]
    if len(queries) > max_queries:
        queries = rng.sample(queries, k=max_queries)
        queries.sort(key=lambda q: q.node)
    return Holdout(
        kept=kept,
        queries=queries,
        held_groups=len(held),
        members={g: groups[g] for g in held},
    )


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
