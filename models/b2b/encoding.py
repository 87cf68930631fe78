"""Model preparation shared by the solver engines: slot domains, symmetry breaking and the
Boolean (CNF / weighted MaxSAT) encoding of the B2B meeting-scheduling problem.

Viewpoint (after Bofill et al., JAIR 74, 2022, MaxSAT model): ``x[m,t]`` meeting m takes
slot t; ``u[p,t]`` participant p is busy at t; ``h[p,t]`` a break of p ends at t (p is busy
at t, idle at t-1 and was busy before). Each true ``h`` is one break, so the soft clauses
are the unit clauses ``¬h`` of weight 1 and the MaxSAT cost is the total number of breaks.

Implied constraints (they do not change the solutions, they make the SAT search prune).
The paper's abstract credits MaxSAT's best performance to "some implied constraints"
without naming them; each one here is justified by RC2 + CaDiCaL timings on six hard
instances (seconds, one run each, on a shared machine where ±30 % is noise):

* busy count ``Σ_t u[p,t] = n_p`` for every participant — once n_p slots are busy the
  others are idle. Without it: forum-14 60 s instead of 7 s, ticf-14crafa > 90 s instead
  of 10 s, forum-14.fixed020 30 s instead of 10 s;
* capacity on busy participants ``Σ_p u[p,t] ≤ 2·L`` instead of ``Σ_m x[m,t] ≤ L`` — each
  meeting makes exactly two participants busy, and the totalizer over 60-80 participants
  is ~4x smaller and propagates through the busy count. Counting meetings instead:
  forum-14 48 s instead of 16 s, three of six instances > 90 s;
* no-break windows: ``z_p`` ⇔ p has no break; then its busy slots are n_p consecutive
  ones, so "busy by t" excludes "busy at t + n_p or later". Mixed: 10-50 % slower on five
  instances but the hardest variant, ticf-14crafa.prec15 (paper: 170 s), takes 12 s with
  them and 63 s without, so they stay on;
* block starts ``b[p,s]``: p has no break and its meetings fill slots s..s+n_p-1. With
  ``z_p ⇔ ∨_s b[p,s]`` each start fixes every busy variable of p, so the search can
  decide where a participant's block goes in one step. On forum-13crafc (12 tables; a
  schedule without breaks needs 13) the SAT call "no break at all" takes 164k conflicts
  with them and more than 400k (675k in another run) without;
* both capacity forms at once, ``Σ_p u[p,t] ≤ 2·L`` and ``Σ_m x[m,t] ≤ L``: they
  propagate differently, and that same call takes 26k conflicts with both against 164k
  with the participant form alone (forum-13crafc.forb0003: 245k against more than 300k).
  These two are off by default: with them RC2 no longer proves forum-14.original within
  60 s (bound 1-2 against the optimum 2, proven in 47 s without them, RC2 alone on the
  loaded machine), and forum-13crafc at d = 0 took 39 s instead of 2-10 s. The
  neighbourhood search of :mod:`models.b2b.solver`, which starts from a schedule and
  wants decisions that move whole blocks, turns them on;
* a per-slot lower bound ``Σ_p u[p,t] ≥ 2·(M - (T-1)·L)`` when tables are scarce;
* precedences both ways (``x[m,t]`` needs every predecessor earlier and every predecessor
  at t needs m later) on domains already narrowed by longest-path propagation.

Symmetry breaking (valid together; see :func:`symmetry_breaks`):

* twin participants (same partners with the same sessions, same forbidden slots, no fixed
  meeting, no precedence): permuting them maps schedules to schedules with the same
  breaks, so their meetings with a common partner are ordered in time;
* time reversal ``t → T + 1 - t`` when every meeting's allowed slots are symmetric and
  there are no precedences: one meeting (not a twin's) is kept in the first half.

Both are cheap and measured neutral on the benchmark (±15 %, within noise): the real
instances have few twins and the reversal-symmetric ones are already easy. They are kept
for events with many one-meeting participants (visitors who see a single exhibitor).

Tables are not encoded: with at most L meetings in a slot any bijection onto 1..L works,
so tables are assigned after solving.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from pysat.card import CardEnc, EncType

from models.b2b.instance import B2BInstance

__all__ = [
    "BoolEncoding",
    "Domains",
    "EncodingOptions",
    "compute_domains",
    "encode",
    "reversal_meeting",
    "symmetry_breaks",
]


@dataclass(frozen=True)
class Domains:
    """Slots each meeting may take after unary rules and precedence propagation, or the
    reason the instance is infeasible (``infeasible`` non-empty)."""

    slots: tuple[tuple[int, ...], ...]
    infeasible: str = ""


def compute_domains(inst: B2BInstance) -> Domains:
    """Session, forbidden and fixed slots, narrowed by longest precedence paths
    (``earliest[m] > earliest[b]`` and ``latest[b] < latest[m]`` for b before m)."""
    doms: list[list[int]] = [inst.allowed_slots(m) for m in range(1, inst.n_meetings + 1)]
    succs: list[list[int]] = [[] for _ in range(inst.n_meetings)]
    for m, before in enumerate(inst.precedences, start=1):
        for b in before:
            succs[b - 1].append(m)
    order = _topological(inst)
    changed = True
    while changed:
        changed = False
        for m in order:
            d = doms[m - 1]
            if not d:
                break
            lo = max(
                (min(doms[b - 1], default=10**9) + 1 for b in inst.precedences[m - 1]), default=0
            )
            if d[0] < lo:
                doms[m - 1] = [t for t in d if t >= lo]
                changed = True
        for m in reversed(order):
            d = doms[m - 1]
            if not d:
                break
            hi = min((max(doms[s - 1], default=-1) - 1 for s in succs[m - 1]), default=10**9)
            if d[-1] > hi:
                doms[m - 1] = [t for t in d if t <= hi]
                changed = True
        if any(not d for d in doms):
            break
    for m, d in enumerate(doms, start=1):
        if not d:
            mt = inst.meetings[m - 1]
            return Domains(
                tuple(tuple(x) for x in doms),
                f"meeting {m} (participants {mt.p1}, {mt.p2}) has no possible slot given its "
                "session, forbidden slots, fixed slot and precedences",
            )
    if inst.n_meetings > inst.n_slots * inst.n_tables:
        return Domains(
            tuple(tuple(x) for x in doms),
            f"{inst.n_meetings} meetings do not fit in {inst.n_slots} slots x "
            f"{inst.n_tables} tables",
        )
    for p in range(1, inst.n_participants + 1):
        ms = inst.meetings_of(p)
        usable = set().union(*(doms[m - 1] for m in ms)) if ms else set()
        if len(usable) < len(ms):
            return Domains(
                tuple(tuple(x) for x in doms),
                f"participant {p} has {len(ms)} meetings but only {len(usable)} usable slots",
            )
    return Domains(tuple(tuple(d) for d in doms))


def _topological(inst: B2BInstance) -> list[int]:
    """Meetings ordered so that every predecessor comes first (the graph is acyclic)."""
    indeg = [len(p) for p in inst.precedences]
    succs: list[list[int]] = [[] for _ in range(inst.n_meetings)]
    for m, before in enumerate(inst.precedences, start=1):
        for b in before:
            succs[b - 1].append(m)
    queue = [m for m in range(1, inst.n_meetings + 1) if indeg[m - 1] == 0]
    out: list[int] = []
    while queue:
        m = queue.pop()
        out.append(m)
        for s in succs[m - 1]:
            indeg[s - 1] -= 1
            if indeg[s - 1] == 0:
                queue.append(s)
    return out


def _partner(inst: B2BInstance, m: int, p: int) -> int:
    mt = inst.meetings[m - 1]
    return mt.p2 if mt.p1 == p else mt.p1


def _twin_groups(inst: B2BInstance) -> list[list[int]]:
    """Groups of interchangeable participants (see module docstring)."""
    in_prec: set[int] = set()
    for m, before in enumerate(inst.precedences, start=1):
        if before:
            in_prec.add(m)
            in_prec.update(before)
    groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for p in range(1, inst.n_participants + 1):
        ms = inst.meetings_of(p)
        if not ms or any(inst.fixed[m - 1] is not None or m in in_prec for m in ms):
            continue
        partners = [(_partner(inst, m, p), inst.meetings[m - 1].session) for m in ms]
        if len({q for q, _ in partners}) != len(partners):
            continue  # repeated meetings with one partner: keep it simple
        groups[(frozenset(partners), inst.forbidden[p - 1])].append(p)
    out: list[list[int]] = []
    for members in groups.values():
        # twins that meet each other would have different partner sets; still be safe
        if len(members) > 1:
            out.append(sorted(members))
    return out


def symmetry_breaks(inst: B2BInstance) -> list[tuple[int, int]]:
    """Pairs ``(m1, m2)`` meaning "meeting m1 strictly before meeting m2" that keep at least
    one optimal schedule: for each twin group q1 < q2 < ..., their meetings with the
    smallest common partner are ordered by time."""
    pairs: list[tuple[int, int]] = []
    for group in _twin_groups(inst):
        common = min(_partner(inst, m, group[0]) for m in inst.meetings_of(group[0]))
        chain: list[int] = []
        for q in group:
            m = next(m for m in inst.meetings_of(q) if _partner(inst, m, q) == common)
            chain.append(m)
        pairs.extend(itertools.pairwise(chain))
    return pairs


def reversal_meeting(inst: B2BInstance, domains: Domains) -> int | None:
    """A meeting that may be kept in the first half of the day (``2·slot ≤ T + 1``) because
    reversing time maps every schedule to one with the same breaks; None when the
    instance is not reversal-symmetric (precedences, or asymmetric allowed slots)."""
    if any(inst.precedences):
        return None
    n_slots = inst.n_slots
    for d in domains.slots:
        s = set(d)
        if any(n_slots + 1 - t not in s for t in s):
            return None
    twins = {p for g in _twin_groups(inst) for p in g}
    best: tuple[int, int] | None = None
    for m, mt in enumerate(inst.meetings, start=1):
        if mt.p1 in twins or mt.p2 in twins:
            continue
        score = len(inst.meetings_of(mt.p1)) + len(inst.meetings_of(mt.p2))
        if best is None or score > best[0]:
            best = (score, m)
    return best[1] if best else None


@dataclass
class BoolEncoding:
    """A weighted partial MaxSAT encoding (hard clauses + unit soft clauses ``¬h``)."""

    n_vars: int = 0
    hard: list[list[int]] = field(default_factory=list)
    holes: list[int] = field(default_factory=list)
    """The break variables h (one soft clause ¬h of weight 1 each)."""
    holes_of: dict[int, list[int]] = field(default_factory=dict)
    x: dict[tuple[int, int], int] = field(default_factory=dict)
    """(meeting, slot) -> variable."""

    def new(self) -> int:
        self.n_vars += 1
        return self.n_vars

    def add(self, clause: list[int]) -> None:
        self.hard.append(clause)

    def add_false(self) -> None:
        """Make the hard part unsatisfiable."""
        v = self.new()
        self.hard.extend([[v], [-v]])

    def card(self, lits: list[int], bound: int, kind: str, enc: int) -> None:
        """Cardinality constraint over lits: kind in 'atmost', 'atleast', 'equals'."""
        fn = {"atmost": CardEnc.atmost, "atleast": CardEnc.atleast, "equals": CardEnc.equals}[kind]
        cnf = fn(lits=lits, bound=bound, top_id=self.n_vars, encoding=enc)
        self.n_vars = max(self.n_vars, cnf.nv)
        self.hard.extend(cnf.clauses)

    def amo(self, lits: list[int]) -> None:
        if len(lits) <= 1:
            return
        if len(lits) <= 6:
            for i, a in enumerate(lits):
                for b in lits[i + 1 :]:
                    self.add([-a, -b])
        else:
            self.card(lits, 1, "atmost", EncType.seqcounter)

    def or_var(self, lits: list[int]) -> int:
        """A fresh variable equivalent to the disjunction of lits."""
        if len(lits) == 1:
            return lits[0]
        v = self.new()
        self.add([-v, *lits])
        for a in lits:
            self.add([-a, v])
        return v

    def unary_counter(self, lits: list[int], k: int) -> list[int]:
        """Outputs ``o[1..k]`` with ``o[j] ⇔ Σ lits ≥ j`` (both directions)."""
        # c[j] after processing i inputs: "at least j of the first i are true"
        false = self.new()
        self.add([-false])
        prev = [false] * (k + 1)
        for lit in lits:
            cur = [false] * (k + 1)
            for j in range(1, k + 1):
                v = self.new()
                below = prev[j - 1] if j > 1 else None
                # v <-> prev[j] or (lit and prev[j-1])   (prev[0] is "true")
                self.add([-prev[j], v])
                if below is None:
                    self.add([-lit, v])
                    self.add([-v, prev[j], lit])
                else:
                    self.add([-lit, -below, v])
                    self.add([-v, prev[j], lit])
                    self.add([-v, prev[j], below])
                cur[j] = v
            prev = cur
        return prev[1:]


@dataclass(frozen=True)
class EncodingOptions:
    """Switches for the optional parts of the encoding (all on by default); they exist to
    measure what each part is worth (``scripts/bench_b2b.py --ablate``)."""

    busy_count: bool = True
    participant_capacity: bool = True
    """Count busy participants (2·L) per slot; off: count meetings (L)."""
    windows: bool = True
    symmetry: bool = True
    slot_lower_bound: bool = True
    blocks: bool = False
    """Block-start variables for participants without a break (off: see the module
    docstring; the neighbourhood search of :mod:`models.b2b.solver` turns them on)."""
    both_capacities: bool = False
    """With ``participant_capacity``, also count meetings (L) per slot (off, as blocks)."""


def encode(
    inst: B2BInstance,
    domains: Domains,
    fairness: int,
    options: EncodingOptions | None = None,
) -> BoolEncoding:
    """The MaxSAT encoding (see module docstring). ``domains`` must be feasible."""
    opts = options or EncodingOptions()
    enc = BoolEncoding()
    n_slots = inst.n_slots
    x = enc.x
    for m, dom in enumerate(domains.slots, start=1):
        lits = []
        for t in dom:
            x[m, t] = enc.new()
            lits.append(x[m, t])
        enc.add(lits)
        enc.amo(lits)
    rev = reversal_meeting(inst, domains) if opts.symmetry else None
    if rev is not None:
        for t in domains.slots[rev - 1]:
            if 2 * t > n_slots + 1:
                enc.add([-x[rev, t]])

    def before(m1: int, m2: int) -> None:
        """slot(m1) < slot(m2)."""
        for t in domains.slots[m2 - 1]:
            enc.add([-x[m2, t]] + [x[m1, t2] for t2 in domains.slots[m1 - 1] if t2 < t])
        for t in domains.slots[m1 - 1]:
            enc.add([-x[m1, t]] + [x[m2, t2] for t2 in domains.slots[m2 - 1] if t2 > t])

    for m, preds in enumerate(inst.precedences, start=1):
        for b in sorted(preds):
            before(b, m)
    for m1, m2 in symmetry_breaks(inst) if opts.symmetry else []:
        before(m1, m2)

    busy_by_slot: dict[int, list[int]] = defaultdict(list)
    some_participant_free = False
    per_participant_holes: list[list[int]] = []
    for p in range(1, inst.n_participants + 1):
        ms = inst.meetings_of(p)
        n = len(ms)
        if n <= 1:
            some_participant_free = True
        u: list[int | None] = []
        for t in range(1, n_slots + 1):
            lits = [x[m, t] for m in ms if (m, t) in x]
            if not lits:
                u.append(None)
                continue
            enc.amo(lits)
            v = enc.or_var(lits) if len(lits) > 1 else lits[0]
            u.append(v)
            busy_by_slot[t].append(v)
        used = [v for v in u if v is not None]
        if n and len(used) == n:
            for v in used:  # busy in every slot it can use
                enc.add([v])
        elif n and opts.busy_count:
            enc.card(used, n, "equals", EncType.seqcounter)
        if n <= 1:
            continue
        holes = _encode_breaks(enc, u, n, opts.windows, opts.blocks)
        enc.holes.extend(holes)
        enc.holes_of[p] = holes
        per_participant_holes.append(holes)

    low = inst.n_meetings - (n_slots - 1) * inst.n_tables
    for t in range(1, n_slots + 1):
        if opts.participant_capacity:
            lits, per_meeting = busy_by_slot[t], 2
        else:
            lits = [v for (_, slot), v in x.items() if slot == t]
            per_meeting = 1
        if len(lits) > per_meeting * inst.n_tables:
            enc.card(lits, per_meeting * inst.n_tables, "atmost", EncType.kmtotalizer)
        if opts.both_capacities and opts.participant_capacity:
            mlits = [v for (_, slot), v in x.items() if slot == t]
            if len(mlits) > inst.n_tables:
                enc.card(mlits, inst.n_tables, "atmost", EncType.kmtotalizer)
        if low > 0 and opts.slot_lower_bound:
            if per_meeting * low > len(lits):
                enc.add_false()
            else:
                enc.card(lits, per_meeting * low, "atleast", EncType.seqcounter)

    if fairness >= 0:
        # a participant who can never have a break pins the minimum at 0
        zero_known = some_participant_free or any(not hs for hs in per_participant_holes)
        _encode_fairness(enc, per_participant_holes, fairness, zero_known)
    return enc


def _encode_breaks(
    enc: BoolEncoding, u: list[int | None], n: int, windows: bool, blocks: bool = False
) -> list[int]:
    """Hole-end variables for one participant plus the no-break window clauses."""
    n_slots = len(u)
    holes: list[int] = []
    a: list[int | None] = [None] * n_slots  # busy at some slot <= t
    acc: int | None = None
    for t in range(n_slots):
        ut = u[t]
        prev = u[t - 1] if t > 0 else None
        if ut is not None and acc is not None:
            h = enc.new()
            # h <-> ut & ~prev & acc
            if prev is not None:
                enc.add([prev, -ut, -acc, h])
                enc.add([-h, -prev])
            else:
                enc.add([-ut, -acc, h])
            enc.add([-h, ut])
            enc.add([-h, acc])
            holes.append(h)
        if ut is not None:
            acc = ut if acc is None else enc.or_var([acc, ut])
        a[t] = acc
    if not holes or not (windows or blocks):
        return holes
    e: list[int | None] = [None] * n_slots  # busy at some slot >= t
    acc = None
    for t in reversed(range(n_slots)):
        ut = u[t]
        if ut is not None:
            acc = ut if acc is None else enc.or_var([acc, ut])
        e[t] = acc
    z = enc.new()  # no break at all
    enc.add([z, *holes])
    for h in holes:
        enc.add([-z, -h])
    for t in range(n_slots):
        at = a[t]
        if at is None or t + n >= n_slots:
            continue
        et = e[t + n]
        if et is not None and windows:
            enc.add([-z, -at, -et])
    if blocks:
        starts = []
        for s0 in range(n_slots - n + 1):
            if any(u[t] is None for t in range(s0, s0 + n)):
                continue
            b = enc.new()
            starts.append(b)
            enc.add([-b, z])
            for t in range(n_slots):
                ut = u[t]
                if ut is not None:
                    enc.add([-b, ut] if s0 <= t < s0 + n else [-b, -ut])
        enc.add([-z, *starts])
        enc.amo(starts)
    return holes


def _encode_fairness(enc: BoolEncoding, holes: list[list[int]], d: int, zero_known: bool) -> None:
    """max − min breaks ≤ d. When some participant can never have a break the minimum
    is 0 and this is ``breaks_p ≤ d``; otherwise a unary ``lo`` with
    ``lo ≤ breaks_p ≤ lo + d`` for every participant."""
    if zero_known:
        for hs in holes:
            if len(hs) > d:
                enc.card(hs, d, "atmost", EncType.seqcounter)
        return
    k_max = max((len(hs) for hs in holes), default=0)
    if k_max <= d:
        return
    lo = [enc.new() for _ in range(k_max)]  # lo[j-1] <-> minimum >= j
    for j in range(1, k_max):
        enc.add([-lo[j], lo[j - 1]])
    for hs in holes:
        outs = enc.unary_counter(hs, k_max)  # outs[j-1] <-> breaks >= j
        for j in range(1, k_max + 1):
            enc.add([-lo[j - 1], outs[j - 1]] if j <= len(hs) else [-lo[j - 1]])
        # breaks >= j + d + 1  ->  lo >= j + 1
        for j in range(0, k_max):
            if j + d + 1 <= k_max:
                enc.add([-outs[j + d], lo[j]])
