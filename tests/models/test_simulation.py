"""The outcome simulator (models.simulation) is deterministic for a seed, and its nDCG
reads the hidden fit."""

from __future__ import annotations

import numpy as np

from models.simulation import make_world, ndcg, plan_events, run_event


def test_the_simulator_is_deterministic_for_a_seed() -> None:
    sellers = [f"s{i}" for i in range(12)]
    families = ["a", "b", "c"] * 4
    buyers = [f"b{j}" for j in range(8)]
    stated = np.random.default_rng(0).random((12, 8))

    def once(seed: int) -> tuple[object, ...]:
        world = make_world(sellers, families, buyers, stated, seed)
        plans = plan_events(world, seed, sellers_per_event=6, program_buyers=6, buyers_per_event=4)
        suggestions = {s: list(plans[0].buyers) for s in plans[0].sellers}
        run = run_event(world, plans[0], suggestions, seed)
        return world.fit.tobytes(), tuple(plans), tuple(run.outcomes)

    assert once(3) == once(3)
    assert once(3) != once(4)
    world = make_world(sellers, families, buyers, stated, 3)
    best = sorted(buyers, key=lambda b: -world.of("s0", b))
    assert ndcg(world, "s0", best, buyers) == 1.0
    assert ndcg(world, "s0", best[::-1], buyers) < 1.0
