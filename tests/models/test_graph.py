"""The interaction network (models.graph): activity, ties, kind lifts, personalised PageRank."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from models.graph import Edge, InteractionGraph


def test_graph_features() -> None:
    g = _graph()
    assert g.edges == 5
    assert g.activity.tolist() == [2, 2, 3, 2, 1, 0]
    assert (0, 4) in g.declined and g.ties(0, [4]).tolist() == [0.0]
    assert g.ties(2, [3, 0]).tolist() == [1.5, 1.0]
    common, aa = g.common_and_aa(0, [1, 3, 5])
    assert common.tolist() == [1, 1, 0]  # 0-1 share 2; 0-3 share 2
    assert aa[0] == pytest.approx(1 / math.log(4)) and aa[2] == 0
    assert g.days_since[0] == 31 and g.days_since[3] == 365 and np.isnan(g.days_since[4])
    walk = g.spread({0: 1.0})
    assert walk[1] == pytest.approx(0.5) and walk[2] == pytest.approx(0.5) and walk[3] == 0
    assert g.popular(2).tolist() == [2, 0]
    assert not g.has(5) and g.has(4)


def test_kind_lift_prefers_observed_pairs() -> None:
    # kinds: 0 firm, 1 university; firms only ever work with universities
    edges = [Edge(a, b, "collaboration") for a in range(0, 6) for b in range(6, 9)]
    g = InteractionGraph(9, edges)
    kinds = np.asarray([0] * 6 + [1] * 3)
    lift = g.kind_lift(kinds, 2)
    assert lift[0, 1] > 0 > lift[0, 0]
    assert lift[0, 1] == pytest.approx(lift[1, 0])


def test_ppr_weighs_small_groups_and_reaches_partners_of_partners() -> None:
    # node 0 was in a pair project with 1 and in a five-member project with 2..5;
    # 1 also worked with 6 (a partner of a partner); 7 is unconnected
    edges = [Edge(0, 1, "collaboration", "p:small")]
    big = [0, 2, 3, 4, 5]
    edges += [Edge(a, b, "collaboration", "p:big") for a in big for b in big if a < b]
    edges.append(Edge(1, 6, "collaboration", "p:other"))
    g = InteractionGraph(8, edges)
    v = g.ppr({0: 1.0})
    assert v[1] > v[2] > 0  # met in a pair beats one of five
    assert v[2] == pytest.approx(v[5])
    assert v[6] > 0 and v[7] == 0  # partners of partners are reached
    assert g.ppr({}).sum() == 0 and g.ppr({99: 1.0}).sum() == 0


def _graph() -> InteractionGraph:
    today = dt.date(2026, 1, 1)
    edges = [
        Edge(0, 1, "collaboration", "p1", dt.date(2025, 12, 1)),
        Edge(0, 2, "collaboration", "p1"),
        Edge(1, 2, "collaboration", "p1"),
        Edge(2, 3, "deal", "d1", dt.date(2025, 1, 1)),
        Edge(3, 4, "meeting", "m"),
        Edge(0, 4, "declined", "x"),
        Edge(1, 1, "meeting", "self"),  # ignored
    ]
    return InteractionGraph(6, edges, today=today)


def test_outcome_evidence_is_kept_by_grade_and_read_through_seeds() -> None:
    """Graded edges (models.evidence) fill `met` (grade / MAX_GRADE, at most 1) and
    `turned_down`; a negative is never a tie; `peer_evidence` sums the seeds' rows
    weighted, for the candidates asked about."""
    from models.graph import MAX_GRADE

    g = InteractionGraph(
        5,
        [
            Edge(0, 1, "meeting", "outcome:e1:a|b", grade=1),
            Edge(0, 1, "deal", "outcome:e2:a|b", grade=MAX_GRADE),
            Edge(2, 1, "follow_up", "outcome:e1:c|b", grade=2),
            Edge(0, 3, "declined", "outcome:e1:a|d", grade=-1),
            Edge(2, 4, "collaboration", "p1"),  # plain history: no evidence
        ],
    )
    assert g.met[0, 1] == 1.0 and g.met[2, 1] == 0.5 and g.turned_down[0, 3] == 1.0
    assert g.ties(0, [3])[0] == 0  # a rejection is no tie
    assert g.evidence_nodes.tolist() == [0, 1, 2, 3]
    met, down = g.peer_evidence({0: 1.0, 2: 0.5}, np.asarray([1, 3, 4]))
    assert np.allclose(met, [1.0 + 0.25, 0, 0]) and np.allclose(down, [0, 1.0, 0])
    none = g.peer_evidence({}, np.asarray([1, 3]))
    assert not none[0].any() and not none[1].any()


def test_peer_seeds_are_the_closest_above_the_floor_and_the_query_itself() -> None:
    from models.ranking import PEER_SEEDS, peer_seeds

    nodes = np.arange(30, dtype=np.int64)
    sims = np.linspace(0.0, 0.9, 30)  # node i has similarity .031 * i
    seeds = peer_seeds(sims, nodes, floor=0.4)
    assert len(seeds) == PEER_SEEDS and min(seeds) == 30 - PEER_SEEDS  # the closest ones
    assert all(0 < w <= 1 for w in seeds.values()) and seeds[29] == max(seeds.values())
    assert peer_seeds(sims, nodes, floor=0.95) == {}  # none similar enough
    # the query's own outcomes weigh fully, whatever its own similarity says
    assert peer_seeds(np.full(30, np.nan), nodes, floor=0.4, q_node=7) == {7: 1.0}
    assert 99 not in peer_seeds(sims, nodes, floor=0.4, q_node=99)  # no evidence of its own
