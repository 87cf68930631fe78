"""What one ranking request asks: the parameter object that matching, search, training
and the evaluation hand to the engine's ranking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.graph import InteractionGraph
from models.matching import Lang, Party, Purpose
from service.engine.catalogue import Record


@dataclass(frozen=True, slots=True, eq=False)
class RankRequest:
    """A query and how to answer it.

    `query_record` is the query's stored profile (None for free text), `query_text` the
    free text; `query_items` the query's (offers, needs) that reasons compare. `graph`
    replaces the interaction network (training replays history without the held-out
    interactions); `within` restricts candidates to these keys (an event's attendees).
    `diversity` discounts established organizations (models.ranking.diversify)."""

    query: Party
    query_record: Record | None
    purpose: Purpose
    kinds: Sequence[str] | None = None
    countries: Sequence[str] | None = None
    k: int = 10
    lang: Lang = "en"
    query_items: tuple[Sequence[str], Sequence[str]] = ((), ())
    query_text: str | None = None
    graph: InteractionGraph | None = None
    explain_results: bool = True
    within: np.ndarray | None = None
    diversity: float = 0.0
