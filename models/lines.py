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
Training and serving decide through the same engine (the training world follows its
engine's decision); a model trained with the votes on and served with them off sees NaN
there (retrain after crossing the gate).

At national scale (issue 22: 1M profiles, two workers of <= 4 GB, /matches p99 <= 100 ms)
the gate stays, and the votes stay off: scripts/bench_lines.py, one run on the shared
2-core machine (load 6.5-8 throughout; ms of one thread's CPU per query, so that the
other processes' turns are not counted; 100 synthetic-profile queries of ~7.4 segments):
- How many segments: distinct segments per profile are 7.2 on the demo corpus (real
  directory-style profiles: every line their own), 0.78 on CORDIS (2.3 listed, project
  titles shared; distinct ~ n^0.90) and 0.70 on the synthetic 100k store (templates,
  ~ n^0.61). At 1M profiles: 0.3M (synthetic), 0.45M (CORDIS) to 7M (demo-like).
- The exact vote is linear: dense 56 / 169 / 579 ms median at 100k / 300k / 1M segments,
  lexical 33 / 117 / 530, both 86 / 279 / 1,110 (p99 1,531 at 1M), against 100 ms for a
  whole request. It holds, per worker, 2 KB of float32 vector, the lexical row twice
  (66-294 n-grams x 8 B, rows and transpose) and ~200 B of Python (the text, `id_of`) per
  segment: 3-7 KB, 1.4-3 GB at 0.45M segments, over 20 GB at 7M.
- An approximate dense vote (FAISS IVF over the segment vectors; each query segment's
  100 nearest, the best 100 of those vote, reading only their owners' rows): at 1M
  segments (2,048 lists) IVF-flat 5.6 / 9.3 / 16.6 ms median at 4 / 8 / 16 probes, recall
  of the exact top-100 segments .987 / .995 / .998; IVF-SQ8 4.3 / 6.0 / 9.3 ms, .956 /
  .960 / .962 (the 8-bit codes cap it); at 300k (1,024 lists) flat 2.9 / 4.9 ms at 4 / 8
  probes (.972 / .989), SQ8 2.1 / 3.1 ms (.963 / .974). The top-20 voted profiles are the
  exact vote's (1.00 flat, .97-.98 SQ8, ties counted). These recalls flatter IVF: beyond
  the store's 70k distinct segments the rows are near-copies of those (cosine 0.9), which
  IVF finds easily; without copies, at 10k, 8 of 128 lists recalled .91 and 32 .96, and
  on real vectors (16,802 use-multilingual-v3 vectors of CORDIS texts, 256 lists) 8
  probes .94 (SQ8 .93) and 32 .99. A real 1M likely needs 16-32 probes for .95: ~10-17
  ms SQ8, ~17-30 ms flat per request. The lexical half has no approximate form: it would
  need a pruned inverted index of its own (models.lexical_pruned's kind) or to be left
  out (see the quality below).
- Texts to embed: a segment that is no offer or need (those are embedded already) is a
  new text: 0.67 (synthetic), 0.78 (CORDIS), 2.15 (demo) per profile, +22 %, +78 %,
  +27 % over what a profile embeds now; 0.7-2.2M texts at 1M, 0.5-1.5 h of one core at
  the 340-404 segments/s measured (use-multilingual-v3, one thread, 1,500 real segments,
  load ~5.8; 124/s while another encoding ran beside it).
- What the votes buy (`clustermatch evaluate`, CORDIS dev queries, nDCG@10 with the votes
  on / off): consortium (a project's text asks for its participants) .1157 / .0931,
  partner .1877 / .1838, academia .1845 / .1836, all .1720 / .1640; the buyer dev set
  .985 / .977. The dense side alone (the lexical vote dropped, in training too) keeps
  nearly all of it: consortium .1141, all .1720 -> .1702, buyers .985; the lexical side
  alone: consortium .1106, all .1714, buyers .977 (as off).
So what the votes buy is real (free-text queries), the dense side carries it, and a dense
IVF vote would cost ~5-17 ms at 1M segments; they stay off there all the same for now,
because the rest does not fit yet: the recall at 1M was measured on near-copies, a
demo-like 1M lists ~7M segments (3.6 GB of SQ8 codes, 14 GB of float32, where the whole
two-worker budget is 10 GB; the IVF at 7M would search 7x the rows per probe), embedding
their sentences adds 0.5-1.5 h of a core to a 1M import, and every segment would have to
be held without Python objects. (Off, the gate's count of live profiles per segment hash,
`Catalogue.segments`, still costs ~78 B per distinct segment in each worker: ~25-35 MB at
a synthetic or CORDIS-like 1M, ~0.55 GB at a demo-like one.) What it would take (not
built): segments keyed by 64-bit hash in arrays (no `lines` / `id_of`), their SQ8 codes in
a shared memory-mapped IVF with a float32 delta for writes (indexing.ivf, as the profile
vectors), owners as a mapped CSR read only for the voting segments, the dense side only
(or a pruned lexical index), segment vectors embedded at import with the profile's texts,
and settings such as CLUSTERMATCH_LINES_LAYOUT=exact|ivf and CLUSTERMATCH_LINES_NPROBE,
tuned for recall >= .95 on real vectors first.

A write changes the index by what it changed (`LineIndex.changed`: the written profiles'
segments in, their old ones out, the new segments' rows appended), in a new index object
that replaces the old one whole, so a request reading the old one is never disturbed. A
segment nobody lists any more keeps its row, which never votes (`alive`), until
`compacted` drops such rows. Rebuilding the whole index on every write, as before, made
a single-profile write cost 6.6 s at 10,000 profiles (16,443 segments, the gate lifted),
most of it transforming every segment with the lexical vocabulary again; applying the
change costs 0.14 s there (scripts/bench_write.py; mostly transposing the lexical rows).
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
    """Distinct segments, their lexical rows and vectors, and who lists each one. Never
    changed in place (requests read it without a lock): `changed` and `compacted` return
    new ones."""

    def __init__(
        self,
        lines: Sequence[str],
        owners: sparse.csr_matrix,
        lexical: sparse.csr_matrix | None,
        vectors: np.ndarray | None,
        *,
        owners_t: sparse.csr_matrix | None = None,
        lexical_t: sparse.csr_matrix | None = None,
    ) -> None:
        self.lines = list(lines)
        self.id_of = {s: i for i, s in enumerate(self.lines)}
        self.owners = owners.tocsr()  # (lines x nodes), 1 where the node lists the line
        self.owners_t = owners_t if owners_t is not None else self.owners.T.tocsr()
        self.lexical = lexical  # (lines x vocabulary), L2-normalised rows
        if lexical_t is None and lexical is not None:
            lexical_t = lexical.T.tocsr()
        self.lexical_t = lexical_t
        self.vectors = vectors  # (lines x dim), normalised
        # lines that some node lists (the others, left by `changed`, never vote)
        self.alive = np.diff(self.owners.indptr) > 0
        self.dead = int(self.alive.size - np.count_nonzero(self.alive))

    @property
    def nodes(self) -> int:
        """How many nodes the votes cover (max key + 1, at least)."""
        return int(self.owners.shape[1])

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

    def new_lines(self, segments_by_key: Mapping[int, Sequence[str]]) -> list[str]:
        """The distinct segments of these keys that have no row here yet, in key order:
        the rows `changed` takes, in this order."""
        seen: dict[str, None] = {}
        for key in sorted(segments_by_key):
            seen.update((s, None) for s in segments_by_key[key] if s not in self.id_of)
        return list(seen)

    def changed(
        self,
        segments_by_key: Mapping[int, Sequence[str]],
        n: int,
        *,
        lexical: sparse.csr_matrix | None,
        vectors: np.ndarray | None,
    ) -> LineIndex:
        """A new index in which each key of `segments_by_key` lists exactly those segments
        (none: the key is gone) and every other key what it lists here. `lexical` and
        `vectors` are the rows of `new_lines(segments_by_key)`, in that order (None when
        there are none); `n`: nodes at least. Costs the changed keys' segments plus a few
        linear passes over the arrays (no segment is transformed or embedded again)."""
        added = self.new_lines(segments_by_key)
        all_lexical, all_vectors, lexical_t = self.lexical, self.vectors, self.lexical_t
        if added:
            if (
                lexical is None
                or vectors is None
                or self.lexical is None
                or self.vectors is None
                or lexical.shape[0] != len(added)
                or vectors.shape[0] != len(added)
            ):
                raise ValueError("changed: one lexical row and one vector per new line")
            all_lexical = sparse.vstack([self.lexical, lexical], format="csr")
            all_vectors = np.vstack([self.vectors, np.asarray(vectors, dtype=np.float32)])
            lexical_t = None  # (transposed anew)
        lines = [*self.lines, *added]
        id_of = dict(self.id_of)
        id_of.update((s, len(self.lines) + i) for i, s in enumerate(added))
        keys = np.fromiter(segments_by_key, dtype=np.int64, count=len(segments_by_key))
        n = max(n, self.nodes, int(keys.max()) + 1 if keys.size else 0)
        old = self.owners_t.tocoo()
        keep = ~np.isin(old.row, keys)
        new_rows: list[int] = []
        new_cols: list[int] = []
        for key, segs in segments_by_key.items():
            for s in dict.fromkeys(segs):
                new_rows.append(key)
                new_cols.append(id_of[s])
        rows = np.concatenate([old.row[keep].astype(np.int64), np.asarray(new_rows, np.int64)])
        cols = np.concatenate([old.col[keep].astype(np.int64), np.asarray(new_cols, np.int64)])
        owners_t = sparse.csr_matrix(
            (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, len(lines))
        )
        return LineIndex(
            lines,
            owners_t.T.tocsr(),
            all_lexical,
            all_vectors,
            owners_t=owners_t,
            lexical_t=lexical_t,
        )

    def compacted(self) -> LineIndex:
        """The same index without the rows of the lines nobody lists."""
        if not self.dead:
            return self
        live = np.flatnonzero(self.alive)
        return LineIndex(
            [self.lines[i] for i in live],
            self.owners[live],
            self.lexical[live] if self.lexical is not None else None,
            self.vectors[live] if self.vectors is not None else None,
        )

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
        if self.dead:  # (below every similarity: a line nobody lists never takes a place)
            sims = np.where(self.alive, sims, np.float32(-2.0))
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
