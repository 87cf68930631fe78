"""The buyer purpose's product fit (models.ranking.product_fit): what the query offers
against what each candidate buys, on one scale whichever facets a candidate filled in;
market and kind refine it and never override it."""

from __future__ import annotations

import numpy as np

from models.matching import Candidates, Party
from models.ranking import INDEX, Signals, feature_matrix, product_fit, purpose_scores

DIM = 64
RNG = np.random.default_rng(7)


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _noise() -> np.ndarray:
    return _unit(RNG.standard_normal(DIM))


def _near(v: np.ndarray, closeness: float) -> np.ndarray:
    """A vector whose cosine with `v` is about `closeness`."""
    return _unit(closeness * v + (1 - closeness) * _noise())


def _pool(query: Party, cands: list[Party]) -> tuple[Candidates, np.ndarray]:
    block = Candidates.of(cands, DIM)
    signals = Signals(lexical=np.zeros(len(cands)), dense_rr={}, lexical_rr={})
    return block, feature_matrix(query, block, signals)


PRODUCT = _noise()
QUERY = Party(
    key=0, kind="firm", country="JP", markets=["US"], all=_near(PRODUCT, 0.8), offers=PRODUCT
)


def _trader(key: int, *, needs: np.ndarray | None, all_: np.ndarray, country: str) -> Party:
    return Party(key=key, kind="trading_company", country=country, all=all_, needs=needs)


def _unrelated(n: int, start: int = 100) -> list[Party]:
    return [_trader(start + i, needs=_noise(), all_=_noise(), country="DE") for i in range(n)]


def test_listed_and_described_needs_compete_on_one_scale() -> None:
    # A lists the product among its needs; B only describes it in its text (weaker in
    # raw cosine: an offer list against a whole description sits lower)
    listed = _trader(1, needs=_near(PRODUCT, 0.9), all_=_near(PRODUCT, 0.6), country="DE")
    described = _trader(2, needs=None, all_=_near(PRODUCT, 0.6), country="DE")
    block, x = _pool(QUERY, [listed, described, *_unrelated(12)])
    fit = product_fit(QUERY, block, x)
    assert x[0, INDEX["offer_need"]] > 0.8 and np.isnan(x[1, INDEX["offer_need"]])
    assert fit[0] > 0.5 and fit[1] > 0.5  # both far above the unrelated ones
    assert fit[2:].max() < min(fit[0], fit[1]) - 0.3
    assert abs(fit[0] - fit[1]) < 0.35


def test_a_maker_is_a_buyer_by_its_needs() -> None:
    # a maker of the same product that names no needs: a competitor's text, half credit
    maker = Party(key=1, kind="firm", country="US", all=_near(PRODUCT, 0.7))
    trader = _trader(2, needs=None, all_=_near(PRODUCT, 0.7), country="US")
    # a maker that lists the product among its needs buys it
    user = Party(
        key=3, kind="firm", country="US", all=_noise(), offers=_noise(), needs=_near(PRODUCT, 0.8)
    )
    block, x = _pool(QUERY, [maker, trader, user, *_unrelated(12)])
    fit = product_fit(QUERY, block, x)
    assert fit[0] < 0.6 * fit[1]
    assert fit[2] > 0.5


def test_market_refines_product_fit_and_never_overrides_it() -> None:
    right_product_elsewhere = _trader(
        1, needs=_near(PRODUCT, 0.85), all_=_near(PRODUCT, 0.6), country="DE"
    )
    right_product_in_market = _trader(
        2, needs=_near(PRODUCT, 0.8), all_=_near(PRODUCT, 0.6), country="US"
    )
    market_only = _trader(3, needs=_noise(), all_=_noise(), country="US")
    block, x = _pool(
        QUERY, [right_product_elsewhere, right_product_in_market, market_only, *_unrelated(12)]
    )
    scores = purpose_scores(QUERY, block, x, "buyer")
    assert scores[1] > scores[0] > scores[2]  # both fits first; the market among the right
    assert x[2, INDEX["market"]] == 1.0 and x[0, INDEX["market"]] == 0.0


def test_a_small_pool_is_scored_without_its_spread() -> None:
    # under FIT_MIN_POOL measured candidates the pool's spread says nothing: similarities
    # are taken as they are, the better product still first
    good = _trader(1, needs=_near(PRODUCT, 0.9), all_=_near(PRODUCT, 0.6), country="DE")
    poor = _trader(2, needs=_noise(), all_=_noise(), country="DE")
    block, x = _pool(QUERY, [good, poor])
    fit = product_fit(QUERY, block, x)
    assert np.isfinite(fit).all() and fit[0] > fit[1]
