"""Bulk encoding on Ray (models.ray_encoder), on a local cluster of two workers started
once for this module: the same vectors as in-process (the real model, and through a
whole import), small calls kept local, the CLI's `--encoder ray`. Ray comes with the
test extra; where it is not installed the module is skipped, saying why (a failure under
CLUSTERMATCH_REQUIRE_RAY=1, which .ci/run sets). About 40 s on a quiet machine, most of
it the cluster's start and the real model loading in each worker."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.encoders import Encoder, HashingEncoder
from models.ray_encoder import RayEncoder, ray_available
from tests.support.env import flag

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def _need_ray() -> None:
    if ray_available():
        return
    reason = "ray is not installed (the optional extra: pip install -e '.[ray]')"
    if flag("CLUSTERMATCH_REQUIRE_RAY"):
        pytest.fail(f"{reason} and CLUSTERMATCH_REQUIRE_RAY is set")
    pytest.skip(reason)


def stand_in(*_: Any, **__: Any) -> HashingEncoder:
    """The model the CLI loads, here and in the Ray workers (importable by them)."""
    return HashingEncoder(dim=64)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A local Ray cluster of 2 CPUs for the module (the encoders then find it running
    and leave it up)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="tests")
    try:
        yield
    finally:
        ray.shutdown()


TEXTS = [
    "精密歯車とステアリング用ギアモジュールの設計・製造",
    "Importer and distributor of machine parts in Europe",
    "ingranaggi di precisione per il settore automobilistico",
    "반도체 장비용 정밀 부품 가공",
    "Präzisionsgetriebe und Zahnräder für Lenksysteme",
    "distributeur de pièces mécaniques en France",
]


@pytest.mark.real_model
def test_the_real_model_gives_the_same_vectors_on_ray(cluster: None, real_encoder: Encoder) -> None:
    from models.encoders import SentenceTransformerEncoder

    texts = [f"{t} ({i})" for i in range(100) for t in TEXTS]  # 600 texts: 3 blocks
    remote = RayEncoder(
        real_encoder,
        functools.partial(SentenceTransformerEncoder, threads=1),
        workers=2,
        threads=1,
    )
    try:
        seen: list[int] = []
        on_ray = remote.encode(texts, progress=lambda done, _: seen.append(done))
        in_process = real_encoder.encode(texts)
        assert remote.remote_texts == len(texts) and seen[-1] == len(texts)
        assert on_ray.shape == in_process.shape == (600, 512)
        assert float(np.abs(on_ray - in_process).max()) < 1e-5
        remote.encode(TEXTS)  # a small call stays in this process
        assert remote.remote_texts == len(texts)
    finally:
        remote.close()


def test_an_import_encoded_on_ray_indexes_the_same_vectors(cluster: None, tmp_path: Path) -> None:
    """A streamed import through an engine whose encoder is Ray's: every profile's
    vectors as an in-process engine indexes them (the order of the blocks kept)."""
    from service.engine import Engine
    from service.io.bulk import check_profiles
    from service.profiles.service import import_checked
    from tests.support.db import sessions_for

    rows = [
        {
            "id": f"f-{i}",
            "name": f"会社{i}",
            "kind": "firm",
            "description": f"{TEXTS[i % 6]} {i}",
            "offers": [f"部品{i}", f"加工{i % 7}"],
        }
        for i in range(700)
    ]
    path = tmp_path / "members.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    check = check_profiles(lambda: path.open("rb"))
    remote = RayEncoder(
        HashingEncoder(dim=64), functools.partial(HashingEncoder, dim=64), workers=2, block=64
    )
    vectors: list[dict[str, Any]] = []
    try:
        for name, encoder in (("ray", remote), ("local", HashingEncoder(dim=64))):
            sessions = sessions_for(f"sqlite:///{tmp_path / name}.db")
            engine = Engine(encoder, sessions, tmp_path / name)
            engine.reconcile()
            report = import_checked(
                engine, sessions, lambda: path.open("rb"), check, allow_partial=False
            )
            assert report.created == 700
            vectors.append({r.profile.id: engine.vectors(r.pk) for r in engine.records.values()})
        assert remote.remote_texts >= 2_000  # (the import's texts went to the cluster)
    finally:
        remote.close()
    on_ray, in_process = vectors
    assert on_ray.keys() == in_process.keys()
    for pid, facets in in_process.items():
        for facet, vector in facets.items():
            other = on_ray[pid][facet]
            assert (vector is None and other is None) or np.array_equal(other, vector), pid


def test_actors_with_another_model_are_refused(cluster: None) -> None:
    remote = RayEncoder(
        HashingEncoder(dim=64), functools.partial(HashingEncoder, dim=32), workers=1
    )
    with pytest.raises(RuntimeError, match="install the same model on the cluster"):
        remote.encode(["x"] * 300)


def test_the_command_encodes_an_import_on_ray(
    cluster: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from service import cli

    monkeypatch.setattr("models.encoders.SentenceTransformerEncoder", stand_in)
    path = tmp_path / "members.csv"
    path.write_text(
        "ID,名称,種別,概要\n"
        + "".join(f"m-{i},会社{i},企業,{TEXTS[i % 6]} {i}\n" for i in range(400))
    )
    runner = CliRunner()
    r = runner.invoke(
        cli.app,
        ["import", str(path), "--encoder", "ray", "--json", "--data-dir", str(tmp_path / "d")],
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["created"] == 400 and report["encoded_texts"] >= 400
