"""The interaction network: who collaborated, met, followed up or closed a deal with whom,
and when. Nodes are integer keys (the store's profile keys); the network is a sparse
weighted adjacency matrix, so track-record and proximity features for hundreds of
candidates are a few sparse products. Declines are kept apart: they never count as a tie.

Interactions derived from meeting outcomes (models.evidence) carry a grade: positive
(1 strong interest .. MAX_GRADE a contract) or negative (a rejected suggestion, a no-show,
no interest). Their grades are also kept as two evidence matrices, so that "organizations
like the query met this candidate with strong interest" (or turned it down) is one sparse
product (`peer_evidence`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

MAX_GRADE = 4
"""The highest grade of outcome evidence (a contract or a new business, models.evidence)."""

KIND_WEIGHT: dict[str, float] = {
    "collaboration": 1.0,
    "deal": 1.5,
    "follow_up": 0.7,
    "meeting": 0.5,
}


@dataclass(frozen=True)
class Edge:
    a: int
    b: int
    kind: str
    context: str = ""
    at: dt.date | None = None
    grade: int = 0  # outcome evidence (models.evidence): 1..MAX_GRADE, -1; 0: plain history


class InteractionGraph:
    def __init__(self, n: int, edges: Iterable[Edge] = (), today: dt.date | None = None) -> None:
        self.n = n
        self.today = today or dt.date.today()
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        groups: dict[str, set[int]] = {}
        self.activity = np.zeros(n, dtype=np.float32)
        last = np.full(n, -1, dtype=np.int64)
        self.declined: set[tuple[int, int]] = set()
        self.edges = 0
        ev_rows: list[int] = []
        ev_cols: list[int] = []
        ev_vals: list[float] = []
        for e in edges:
            if e.a == e.b or e.a >= n or e.b >= n:
                continue
            if e.grade:
                ev_rows += [e.a, e.b]
                ev_cols += [e.b, e.a]
                ev_vals += [float(e.grade)] * 2
            if e.kind == "declined":
                self.declined.add((min(e.a, e.b), max(e.a, e.b)))
                continue
            w = KIND_WEIGHT.get(e.kind, 0.5)
            rows += [e.a, e.b]
            cols += [e.b, e.a]
            vals += [w, w]
            self.activity[e.a] += 1
            self.activity[e.b] += 1
            # a shared context (one project, one event) is one group; a pair without one
            # is a group of two
            groups.setdefault(e.context or f"\0{self.edges}", set()).update((e.a, e.b))
            if e.at is not None:
                ordinal = e.at.toordinal()
                last[e.a] = max(last[e.a], ordinal)
                last[e.b] = max(last[e.b], ordinal)
            self.edges += 1
        self.adj = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(n, n)
        )
        self.adj.sum_duplicates()
        binary = self.adj.copy()
        binary.data[:] = 1.0
        self.binary = binary
        self.degree = np.asarray(binary.sum(axis=1)).ravel().astype(np.float32)
        with np.errstate(divide="ignore"):
            inv_log = np.where(self.degree > 1, 1.0 / np.log1p(self.degree), 0.0)
        # A * diag(1/log(1+deg)) * A^T gives Adamic-Adar between any two nodes.
        self._aa = (binary @ sparse.diags(inv_log.astype(np.float32))).tocsr()
        rowsum = np.asarray(self.adj.sum(axis=1)).ravel()
        with np.errstate(divide="ignore"):
            inv = np.where(rowsum > 0, 1.0 / rowsum, 0.0).astype(np.float32)
        self._walk = (sparse.diags(inv) @ self.adj).tocsr()  # row-stochastic
        self._group_walk = _group_walk(n, groups.values())
        today_ord = self.today.toordinal()
        self.days_since = np.where(last >= 0, today_ord - last, np.nan).astype(np.float32)
        self._popular: np.ndarray | None = None
        self._evidence(ev_rows, ev_cols, ev_vals)

    def _evidence(self, rows: list[int], cols: list[int], vals: list[float]) -> None:
        """The outcome evidence as two matrices in [0, 1]: `met` (positive grades over
        MAX_GRADE, summed over events, at most 1) and `turned_down` (negatives, likewise),
        and the nodes that have any (`evidence_nodes`, sorted)."""
        v = np.asarray(vals, dtype=np.float32)
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        pos = v > 0

        def matrix(keep: np.ndarray, values: np.ndarray) -> sparse.csr_matrix:
            m = sparse.csr_matrix((values, (r[keep], c[keep])), shape=(self.n, self.n))
            m.sum_duplicates()
            m.data = np.minimum(m.data, 1.0)
            return m

        self.met = matrix(pos, v[pos] / MAX_GRADE)
        self.turned_down = matrix(~pos, np.ones(int((~pos).sum()), dtype=np.float32))
        self.evidence_nodes = np.unique(r)

    def peer_evidence(
        self, seeds: dict[int, float], cands: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """What the seeds' outcomes say of each candidate (node keys below n): the seeds'
        weighted sum of `met` and of `turned_down`, in the order of `cands` (zeros
        without seeds). Seeds are organizations like the query, weighed by similarity
        (models.ranking.peer_seeds); a sum, not a mean: a seed that never met a node says
        nothing against it. Only the seeds' rows and the candidates' columns are read."""
        valid = {k: w for k, w in seeds.items() if 0 <= k < self.n and w > 0}
        c = np.asarray(cands, dtype=np.int64)
        if not valid or c.size == 0:
            return np.zeros(c.size, dtype=np.float32), np.zeros(c.size, dtype=np.float32)
        idx = np.fromiter(valid, dtype=np.int64)
        w = np.fromiter(valid.values(), dtype=np.float32)
        return (
            np.asarray(w @ self.met[idx][:, c].toarray(), dtype=np.float32).ravel(),
            np.asarray(w @ self.turned_down[idx][:, c].toarray(), dtype=np.float32).ravel(),
        )

    def has(self, i: int) -> bool:
        return 0 <= i < self.n and self.activity[i] > 0

    def neighbors(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not (0 <= i < self.n):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        row = self.adj.getrow(i)
        return row.indices.astype(np.int64), row.data

    def ties(self, i: int, cands: Sequence[int] | np.ndarray) -> np.ndarray:
        """Weighted past interactions between i and each candidate."""
        if not (0 <= i < self.n):
            return np.zeros(len(cands), dtype=np.float32)
        return np.asarray(self.adj[i, np.asarray(cands, dtype=np.int64)].todense()).ravel()

    def common_and_aa(
        self, i: int, cands: Sequence[int] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Common neighbours and Adamic-Adar of i with each candidate."""
        c = np.asarray(cands, dtype=np.int64)
        if not (0 <= i < self.n) or c.size == 0:
            z = np.zeros(len(c), dtype=np.float32)
            return z, z.copy()
        bc = self.binary[c]
        common = np.asarray((bc @ self.binary[i].T).todense()).ravel()
        aa = np.asarray((bc @ self._aa[i].T).todense()).ravel()
        return common.astype(np.float32), aa.astype(np.float32)

    def spread(self, seeds: dict[int, float]) -> np.ndarray:
        """One step of a personalised random walk from weighted seeds: mass on each node
        (dense vector of length n). Partners of partners, or partners of look-alikes."""
        out = np.zeros(self.n, dtype=np.float32)
        valid = {k: w for k, w in seeds.items() if 0 <= k < self.n}
        if not valid:
            return out
        idx = np.fromiter(valid, dtype=np.int64)
        w = np.fromiter(valid.values(), dtype=np.float32)
        vec = sparse.csr_matrix((w, (np.zeros(idx.size, dtype=np.int64), idx)), shape=(1, self.n))
        return np.asarray((vec @ self._walk).todense()).ravel()

    def ppr(self, seeds: dict[int, float], *, steps: int = 2, restart: float = 0.5) -> np.ndarray:
        """Personalised PageRank over shared groups, truncated after `steps` steps: from
        the seeds through each group they took part in (a group of m members passes 1/m
        to each), and on, restarting with probability `restart`. Unlike one step over
        pairwise ties, a partner met in a small consortium counts more than one of fifty,
        and partners of partners are reached. Dense vector of length n."""
        valid = {k: w for k, w in seeds.items() if 0 <= k < self.n}
        if not valid:
            return np.zeros(self.n, dtype=np.float32)
        idx = np.fromiter(valid, dtype=np.int64)
        w = np.fromiter(valid.values(), dtype=np.float32)
        vec = sparse.csr_matrix((w, (np.zeros(idx.size, dtype=np.int64), idx)), shape=(1, self.n))
        first = vec @ self._group_walk
        out = first
        for _ in range(steps):
            out = restart * first + (1.0 - restart) * (out @ self._group_walk)
        return np.asarray(out.todense(), dtype=np.float32).ravel()

    def popular(self, n: int) -> np.ndarray:
        """The n most active nodes (ties by key). Sorted once per graph (the graph does
        not change): every request asks, and a partition over 100k nodes costs ~3 % of a
        match request."""
        order = self._popular
        if order is None:
            order = np.argsort(-self.activity, kind="stable")
            order = order[self.activity[order] > 0]
            order.flags.writeable = False
            self._popular = order  # (two threads may both sort: the same result)
        return order[:n]

    def kind_lift(self, kinds: np.ndarray, n_kinds: int) -> np.ndarray:
        """log lift of an interaction between kinds (a, b) over what the kinds' shares
        would give by chance: a data-driven kind-pair fit (university-firm, firm-trader...).
        Any code per node works the same way (countries: `country_lift`); -1: none."""
        coo = sparse.triu(self.adj, k=1).tocoo()
        counts = np.ones((n_kinds, n_kinds), dtype=np.float64)  # +1 smoothing
        ka, kb = kinds[coo.row], kinds[coo.col]
        valid = (ka >= 0) & (kb >= 0)
        np.add.at(counts, (ka[valid], kb[valid]), 1.0)
        np.add.at(counts, (kb[valid], ka[valid]), 1.0)
        share = counts.sum(axis=1) / counts.sum()
        expected = np.outer(share, share) * counts.sum()
        return np.log(counts / expected).astype(np.float32)


def _group_walk(n: int, groups: Iterable[set[int]]) -> sparse.csr_matrix:
    """Node-to-node transfer through groups: the sum, over the groups both took part in,
    of 1 / group size (no self-loops)."""
    rows: list[int] = []
    cols: list[int] = []
    for g, members in enumerate(groups):
        rows += list(members)
        cols += [g] * len(members)
    n_groups = cols[-1] + 1 if cols else 0
    incidence = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n_groups)
    )
    size = np.asarray(incidence.sum(axis=0)).ravel()
    inv = (1.0 / np.maximum(size, 1.0)).astype(np.float32)
    walk = (incidence @ sparse.diags(inv) @ incidence.T).tocsr()
    walk.setdiag(0)
    walk.eliminate_zeros()
    return walk
