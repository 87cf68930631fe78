"""Why a candidate suits the query: the reasons shown with each match, strongest first,
weighted by the learned re-ranker's contributions when there is one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.evidence import peer_reason
from models.graph import InteractionGraph
from models.matching import (
    DEFAULT_CALIBRATION,
    REASON_FEATURES,
    Calibration,
    Lang,
    Party,
    Purpose,
    Reason,
    best_item_match,
    explain,
    network_reasons,
)
from models.ranking import FEATURES
from service.engine.catalogue import Record, item_matrix


@dataclass(frozen=True, slots=True, eq=False)
class ReasonContext:
    """What the reasons of one request's results share (built once per request).
    `table` holds the vectors of the query's and the results' items, by text;
    `query_vectors` those of the query's (offers, needs); `records` is the catalogue's,
    for the names of shared partners."""

    query: Party
    query_record: Record | None
    purpose: Purpose
    query_items: tuple[Sequence[str], Sequence[str]]
    query_vectors: tuple[np.ndarray | None, np.ndarray | None]
    table: Mapping[str, np.ndarray]
    lang: Lang
    graph: InteractionGraph | None
    records: Mapping[int, Record]
    calibration: Calibration = DEFAULT_CALIBRATION


def reasons_for(
    ctx: ReasonContext,
    c: Party,
    rec: Record,
    f: dict[str, float],
    contrib: np.ndarray | None,
) -> list[Reason]:
    """The (up to) three strongest reasons why candidate `c` (stored as `rec`, with
    features `f`) suits the query; `contrib`: the re-ranker's contribution per feature.
    None of them (an empty list) means nothing drove the match: it is left out."""
    q_offers, q_needs = ctx.query_items
    no = best_item_match(
        q_needs,
        ctx.query_vectors[1],
        rec.profile.offers,
        item_matrix(rec.profile.offers, ctx.table),
    )
    on = best_item_match(
        q_offers,
        ctx.query_vectors[0],
        rec.profile.needs,
        item_matrix(rec.profile.needs, ctx.table),
    )
    reasons = explain(
        ctx.query,
        c,
        f,
        ctx.purpose,
        need_offer=no,
        offer_need=on,
        lang=ctx.lang,
        limit=6,
        calibration=ctx.calibration if ctx.query_record else ctx.calibration.for_text(),
    )
    reasons += network_reasons(
        f,
        ctx.lang,
        shared=shared_partners(ctx, c.key),
        contributions=None if contrib is None else dict(zip(FEATURES, contrib, strict=True)),
    )
    # outcomes of organizations like the query with this candidate (models.evidence)
    peer = peer_reason(f, ctx.lang)
    if peer is not None:
        reasons.append(peer)
    if contrib is not None:
        weight = dict(zip(FEATURES, contrib, strict=True))
        reasons = [
            Reason(
                r.code,
                r.text,
                round(
                    float(weight.get(REASON_FEATURES.get(r.code, ""), 0.0)) + r.weight * 1e-3,
                    4,
                ),
                r.detail,
            )
            for r in reasons
        ]
    reasons.sort(key=lambda r: -r.weight)
    return reasons[:3]


def shared_partners(ctx: ReasonContext, pk: int) -> list[str]:
    """The names of (up to three) partners that the query and `pk` share."""
    query_record, graph = ctx.query_record, ctx.graph
    if query_record is None or graph is None or not graph.has(query_record.pk):
        return []
    a, _ = graph.neighbors(query_record.pk)
    b, _ = graph.neighbors(pk)
    common = np.intersect1d(a, b)[:3]
    found = (ctx.records.get(int(x)) for x in common.tolist())
    return [rec.profile.name for rec in found if rec is not None]
