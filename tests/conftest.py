"""Shared fixtures. The expensive real model loads once per session; most tests use the
deterministic HashingEncoder through the same code paths.

Environment:
- CLUSTERMATCH_TEST_POSTGRES_URL: PostgreSQL for the `postgres` tests
  (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
- CLUSTERMATCH_REQUIRE_POSTGRES=1 / CLUSTERMATCH_REQUIRE_SHARED=1 (set by .ci/run): a
  missing PostgreSQL or ../shared fails instead of skipping.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see service/__init__.py

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from models.encoders import Encoder, HashingEncoder
from service.app import create_app
from service.auth import create_key
from service.settings import Settings
from service.store.db import make_engine, make_sessionmaker, transaction

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLUSTERMATCH_SHARED_DIR", ROOT.parent / "shared"))
DEMO = ROOT / "service" / "demo" / "organizations.jsonl"
PG_URL = os.environ.get(
    "CLUSTERMATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")


def need_shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if _flag("CLUSTERMATCH_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing and CLUSTERMATCH_REQUIRE_SHARED is set")
        pytest.skip(f"{path} not found (the shared data is not on this machine)")
    return path


_pg_ok: bool | None = None


def postgres_url() -> str:
    """A fresh schema on the test PostgreSQL, or skip (fail under CI)."""
    global _pg_ok
    if _pg_ok is None:
        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(text("select 1"))
            eng.dispose()
            _pg_ok = True
        except Exception as exc:  # any connection failure means "not here"
            _pg_ok = False
            reason = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
            if _flag("CLUSTERMATCH_REQUIRE_POSTGRES"):
                pytest.fail(reason + " (CLUSTERMATCH_REQUIRE_POSTGRES is set)")
            pytest.skip(reason)
    if not _pg_ok:
        if _flag("CLUSTERMATCH_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = "t_" + uuid.uuid4().hex[:12]
    eng = create_engine(PG_URL)
    with eng.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    eng.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return postgres_url()


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder(dim=64)


def make_settings(tmp_path: Path, db_url: str | None = None, **overrides: Any) -> Settings:
    """Test settings: the re-ranker is compiled only where a test asks for it
    (`native_ranker=True`), not in the background of every test that trains one."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        index_save_interval_s=0,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
        **{"native_ranker": False, **overrides},
    )


class Api:
    """A running app (lifespan entered) with keys for each role."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def h(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def wait_ready(client: TestClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.app.state.engine.ready:  # type: ignore[attr-defined]
            return
        time.sleep(0.02)
    raise AssertionError("engine did not become ready")


def start_api(settings: Settings, encoder: Encoder) -> Iterator[Api]:
    app = create_app(settings, encoder=encoder)
    with TestClient(app, raise_server_exceptions=False) as client:
        wait_ready(client)
        keys: dict[str, str] = {}
        with transaction(app.state.sessions) as s:
            for role in ("admin", "organizer"):
                _, keys[role] = create_key(s, role)  # type: ignore[arg-type]
            _, keys["member"] = create_key(s, "member", profile_id="jp-1")
        yield Api(client, keys)


@pytest.fixture
def api(tmp_path: Path, encoder: HashingEncoder) -> Iterator[Api]:
    yield from start_api(make_settings(tmp_path), encoder)


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    from models.encoders import SentenceTransformerEncoder

    return SentenceTransformerEncoder()


def sessions_for(url: str) -> Any:
    from service.store.db import upgrade

    eng = make_engine(url)
    upgrade(eng)
    return make_sessionmaker(eng)


SAMPLE: list[dict[str, Any]] = [
    {
        "id": "jp-1",
        "name": "株式会社精密歯車",
        "name_en": "Seimitsu Gear",
        "kind": "firm",
        "country": "JP",
        "cluster": "TAMA",
        "description": "精密歯車とベアリングの製造",
        "offers": ["precision gears", "bearing assembly"],
        "needs": ["distributor in Europe", "steering assist research"],
        "industries": ["automotive", "machinery"],
        "markets": ["IT", "DE"],
        "languages": ["ja", "en"],
        "website": "https://gear.example.jp",
        "contact": "sales@gear.example.jp",
    },
    {
        "id": "it-1",
        "name": "Veneto Trading Srl",
        "kind": "trading_company",
        "country": "IT",
        "description": "Importer and distributor of machine parts in Europe",
        "offers": ["distributor in Europe", "import logistics"],
        "needs": ["precision gears from Japan"],
        "industries": ["machinery"],
        "markets": ["IT", "DE", "FR"],
        "languages": ["it", "en"],
    },
    {
        "id": "uni-1",
        "name": "Tama University",
        "kind": "university",
        "country": "JP",
        "cluster": "TAMA",
        "description": "Research on steering assist and gear dynamics",
        "offers": ["steering assist research", "gear dynamics testing"],
        "needs": ["industrial partners"],
        "industries": ["automotive"],
    },
    {
        "id": "kr-1",
        "name": "Seoul Bio Co",
        "kind": "firm",
        "country": "KR",
        "description": "Biopharmaceutical contract manufacturing",
        "offers": ["cell culture media"],
        "needs": ["clinical partners"],
        "industries": ["bio"],
    },
    {
        "id": "jp-2",
        "name": "Gear Branch Office",
        "kind": "firm",
        "country": "JP",
        "description": "precision gears sales office",
        "offers": ["precision gears"],
        "website": "www.gear.example.jp/branch",
    },
]
