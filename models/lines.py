"""Line-level evidence: the single items a profile lists.

A description is often a list rather than one text: past projects one per line, products,
services, sentences about separate activities. Compared as a whole, a large organization's
hundred lines dilute any one of them; compared line by line, "who has done something very
much like this" shows. `LineIndex` holds every distinct segment of every profile (lines and
sentences of the description, each offer and need) with its owners, and answers a query
(its own segments) with a vote: the `k` segments most similar to any query segment, each
passing its similarity to the profiles that list it. Participants of similar past projects,
suppliers of similar products: a candidate source and a feature, lexical (character
n-grams) and dense (multilingual embedding, so it works across languages).

Cost per query: one sparse product over the query n-grams' postings among the lines, and
one dense product (lines x dimension) per query segment, both linear in the number of
distinct segments. Measured per request on the CORDIS benchmark (5,190 profiles, 4,047
distinct segments, 1.2M lexical non-zeros; one BLAS thread as in the API, on a shared
2-core machine): 1.2 ms median / 2.7 ms p90 / 7 ms p99 for catalogue profiles as queries
(2.9 / 9.5 ms median / p90 for the dev partner queries, larger organizations); with the
segments tiled to 8k: 2.1 / 5.3 / 15 ms, 16k: 4.3 / 12.5 / 34 ms, 32k: 10.6 / 30 / 76 ms.
Hence the gate `LINES_MAX`: line votes (the features and the candidate source) are on
only while the catalogue has at most that many distinct segments, where the vote stays
within a few ms (about 2.5 ms median, 6 ms p90). Above it the features are NaN, no
`LineIndex` is built or rebuilt at all; the engine only counts, as profiles come and go,
how many live profiles list each distinct segment (by hash; `Engine.lines_on`). The API's
latency target at 100k profiles (scripts/bench_core.py) is met without the votes.
Going further needs an approximate search (a FAISS index over the segment vectors, the
posting budget of models.lexical). Training and serving decide through the same engine
(the training world follows its engine's decision); a model trained with the votes on and
served with them off sees NaN there (retrain after crossing the gate).

Limitation: the index is rebuilt as a whole whenever the catalogue changed, by the write
that changed it (`Engine.line_index`, `Engine._warm_lines`: 0.6 s at CORDIS size, 0.3-1 s
for the demo corpus, segments embedded through the cache), so requests never wait for it;
fine for bulk imports, a cost on every single write below the gate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse

from models.topn import top_n

# Line breaks, and sentence ends: ". " / "! " / "? " (followed by space) and the CJK full
# stops, which are not followed by a space.
_SEGMENT = re.compile(r"\s*\n\s*|(?<=[.!?])\s+|(?<=[。！？])")
MIN_SEGMENT_CHARS = 4
MAX_SEGMENTS = 200  # per text: a bound on the cost of one profile
# Line votes only while the catalogue has at most this many distinct segments (see above).
LINES_MAX = 10_000


def segments(text: str | None) -> list[str]:
    """The distinct lines and sentences of a text, in order (short fragments dropped)."""
    if not text:
        return []
    out: dict[str, None] = {}
    for part in _SEGMENT.split(text):
        s = part.strip()
        if len(s) >= MIN_SEGMENT_CHARS and any(ch.isalnum() for ch in s):
            out[s] = None
            if len(out) >= MAX_SEGMENTS:
                break
    return list(out)


class LineIndex:
    """Distinct segments, their lexical rows and vectors, and who lists each one."""

    def __init__(
        self,
        lines: Sequence[str],
        owners: sparse.csr_matrix,
        lexical: sparse.csr_matrix | None,
        vectors: np.ndarray | None,
    ) -> None:
        self.lines = list(lines)
        self.id_of = {s: i for i, s in enumerate(self.lines)}
        self.owners = owners.tocsr()  # (lines x nodes), 1 where the node lists the line
        self.owners_t = self.owners.T.tocsr()
        self.lexical = lexical  # (lines x vocabulary), L2-normalised rows
        self.lexical_t = lexical.T.tocsr() if lexical is not None else None
        self.vectors = vectors  # (lines x dim), normalised

    @classmethod
    def build(
        cls,
        segments_by_key: Mapping[int, Sequence[str]],
        n: int,
        *,
        lexical: sparse.csr_matrix | None = None,
        vectors: np.ndarray | None = None,
        lines: Sequence[str] | None = None,
    ) -> LineIndex:
        """`lines` (default: the distinct segments in key order) fixes the row order that
        `lexical` / `vectors` follow; `n` is the number of nodes (max key + 1)."""
        if lines is None:
            seen: dict[str, None] = {}
            for key in sorted(segments_by_key):
                seen.update((s, None) for s in segments_by_key[key])
            lines = list(seen)
        id_of = {s: i for i, s in enumerate(lines)}
        rows: list[int] = []
        cols: list[int] = []
        for key, segs in segments_by_key.items():
            for s in set(segs):
                if s in id_of and 0 <= key < n:
                    rows.append(id_of[s])
                    cols.append(key)
        owners = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(lines), n)
        )
        return cls(lines, owners, lexical, vectors)

    def __len__(self) -> int:
        return len(self.lines)

    def similarities(
        self, q_lexical: sparse.csr_matrix | None, q_vectors: np.ndarray | None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per line, its best similarity to any query segment: lexical (TF-IDF cosine) and
        dense (embedding cosine). None where that side is missing."""
        lex = dense = None
        lt = self.lexical_t
        # (a query of another vocabulary, from before a refit, is skipped)
        if (
            q_lexical is not None
            and lt is not None
            and q_lexical.shape[0] > 0
            and (q_lexical.shape[1] == lt.shape[0])
        ):
            prod = (q_lexical.tocsr() @ lt).tocsr()  # (queries x lines)
            lex = np.asarray(prod.max(axis=0).todense(), dtype=np.float32).ravel()
        if q_vectors is not None and self.vectors is not None and len(q_vectors):
            dense = (self.vectors @ np.asarray(q_vectors, dtype=np.float32).T).max(axis=1)
        return lex, dense

    def vote(self, sims: np.ndarray | None, *, k: int = 100, power: float = 1.0) -> np.ndarray:
        """Per node, the summed similarity (to the `power`) of its lines among the `k` most
        similar lines: a node listing several close lines collects several votes."""
        n = self.owners.shape[1]
        if sims is None or sims.size == 0:
            return np.zeros(n, dtype=np.float32)
        k = min(k, sims.size)
        top = top_n(sims, k)
        w = np.zeros(sims.size, dtype=np.float32)
        w[top] = np.maximum(sims[top], 0.0) ** power
        return np.asarray(self.owners_t @ w, dtype=np.float32).ravel()


def profile_segments(
    description: str | None, offers: Sequence[str], needs: Sequence[str]
) -> list[str]:
    """A profile's segments: the lines and sentences of its description, and each offer
    and need (an item is a line of its own)."""
    out = dict.fromkeys(segments(description))
    items = (s.strip() for s in (*offers, *needs))
    out.update(dict.fromkeys(s for s in items if len(s) >= MIN_SEGMENT_CHARS))
    return list(out)[:MAX_SEGMENTS]
