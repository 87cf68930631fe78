"""Synthetic worlds for the learning tests: organizations in topic communities with a
project history, and feature rows whose labels two features decide."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from models.ranking import FEATURES, INDEX

TOPICS = [
    "robot gripper",
    "battery cell",
    "medical stent",
    "food packaging",
    "solar module",
    "textile dye",
    "machine vision",
    "hydrogen tank",
]


def topic_world(
    n: int = 60, projects: int = 250, seed: int = 1
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Organizations in topic communities (profile rows) and the collaborations of their
    projects (interaction rows); projects mostly within a community."""
    rng = random.Random(seed)
    orgs = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        kind = "university" if i % 5 == 0 else "firm"
        orgs.append(
            {
                "id": f"o{i}",
                "name": f"Org {i}",
                "kind": kind,
                "country": "JP",
                "description": f"{topic} {'research' if kind == 'university' else 'maker'}",
            }
        )
    rows = []
    for p in range(projects):
        t = rng.randrange(len(TOPICS))
        members = [i for i in range(n) if i % len(TOPICS) == t]
        team = rng.sample(members, k=min(len(members), rng.randint(2, 4)))
        if rng.random() < 0.2:
            team.append(rng.randrange(n))
        team = sorted(set(team))
        rows += [
            {"a": f"o{a}", "b": f"o{b}", "kind": "collaboration", "context": f"project:{p}"}
            for a in team
            for b in team
            if a < b
        ]
    return orgs, rows


def toy_features(seed: int = 0, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """`n` rows of FEATURES (5 % missing) and their labels: 1 where dense + tie > 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    x[rng.random(size=x.shape) < 0.05] = np.nan
    y = ((np.nan_to_num(x[:, INDEX["dense"]]) + np.nan_to_num(x[:, INDEX["tie"]])) > 1).astype(int)
    return x, y
