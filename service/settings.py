"""Settings, read from the environment (prefix `CLUSTERMATCH_`) or a `.env` file.
Every setting is documented in the README; unsafe values are refused at start."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_model() -> str:
    """The built-in model's setting value, imported when settings are made: `service.cli`
    imports this module before `service.runtime.configure_process()` has run, and
    `models.encoders` loads numpy."""
    from models.encoders import DEFAULT_MODEL

    return DEFAULT_MODEL


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/clustermatch`, else `~/.local/share/clustermatch`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clustermatch"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLUSTERMATCH_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    """SQLAlchemy URL; default: SQLite file `clustermatch.db` in the data directory."""
    model: str = Field(default_factory=default_model)
    """`use-multilingual-v3` (built in) or any sentence-transformers model folder / name."""
    encoder_threads: int = Field(default=2, ge=1, le=64)
    encode_batch_size: int = Field(default=64, ge=1, le=4096)
    encoder: Literal["local", "ray"] = "local"
    """Where bulk encoding runs: `local`, in this process; `ray`, on a Ray cluster
    (models.ray_encoder: the optional extra `clustermatch[ray]`), which each import's
    encoding goes to in blocks while queries and single writes stay local."""
    ray_address: str | None = None
    """The Ray cluster (`ray://head:10001`, or `auto` on a cluster node); unset: a local
    cluster this process starts at its first bulk encoding."""
    ray_workers: int = Field(default=2, ge=1, le=4096)
    """Encoder actors on the Ray cluster (each loads the model)."""
    ray_threads: int = Field(default=1, ge=1, le=64)
    """Threads (and CPUs reserved) per encoder actor."""
    hnsw_threshold: int = Field(default=50_000, ge=1)
    """Vectors per index at which the exact (flat) index gives way to the large layout."""
    index_layout: Literal["compact", "hnsw"] = "compact"
    """The large layout (indexing.vector_index): `compact`, IVF over 8-bit codes in a
    memory-mapped file that every worker shares, plus a small float32 delta of recent
    writes; `hnsw`, the float32 HNSW graph each worker holds in full (the layout before
    issue 22)."""
    index_nprobe: int = Field(default=32, ge=1, le=65_536)
    """Lists the compact layout probes per search (recall@10 against exact search .98 at
    100k and 1M synthetic profiles, scripts/bench_scale.py)."""
    index_save_interval_s: float = Field(default=30.0, ge=0.0)
    """How often a changed index is written to disk (it is also written at shutdown and
    after writes of 1,000 profiles or more; the database stays the source of truth either
    way: startup re-indexes what the saved index missed, from cached vectors)."""
    sync_interval_s: float = Field(default=1.0, ge=0.0)
    """How often a server process applies what other processes (workers, machines, the
    CLI) wrote, from the change feed (service.sync); 0 turns following off."""
    serve_when_ready: bool = False
    """Accept connections only once the index is loaded (startup waits for it), instead of
    answering at once with /readyz 503 meanwhile. `serve --workers N` (N > 1) turns it on:
    workers share one listening socket, and a worker still loading would otherwise take
    its share of requests and answer 503 while the others are ready."""
    job_timeout_s: float = Field(default=60.0, ge=4.0, le=3600)
    """A job whose process sent no heartbeat for this long is failed by the other processes
    (service.jobs.service; the heartbeat comes every quarter of it). A process on the same
    host sees a dead owner's pid at once."""
    key_cache_s: float = Field(default=5.0, ge=0, le=3600)
    """How long a process trusts an API key it has checked (0: check every request); a key
    revoked meanwhile stops working within this time."""
    match_inline: bool = False
    """Match (and search) on the process's event-loop thread instead of a worker thread.
    The process then accepts no new connection while it matches, so with several workers
    sharing a socket the next request goes to an idle worker instead of queueing behind
    the GIL of a busy one. `serve --workers N` (N > 1) turns it on; with one worker it
    would serialise all requests, so leave it off there."""
    native_ranker: bool = True
    """Compile the learned re-ranker to native code (lleaves / LLVM) in the background
    when it is trained or loaded, and score with it once ready: the same scores, ~6x less
    CPU than LightGBM's own scoring (models.native). Object files are cached under the
    index directory, per model and CPU. Off: LightGBM scores every request."""
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest body of an import (a file uploaded to the import routes, API and console)."""
    max_json_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    """Largest body of every other route (JSON documents, forms): a profile at its largest,
    escaped, is about 2.1 MB. Bodies over 64 KiB are parsed off the event loop."""
    max_import_rows: int = Field(default=100_000, ge=1)
    """Rows per import file read whole: XLSX workbooks, the console's imports, published
    lists (service.connectors)."""
    max_bulk_import_rows: int = Field(default=2_000_000, ge=1)
    """Rows per JSONL / CSV profile import, which is read as a stream (`clustermatch
    import`, `POST /v1/profiles/import`: service.io.bulk)."""
    max_bulk_import_bytes: int = Field(default=4 * 1024**3, ge=1024)
    """Largest body of `POST /v1/profiles/import`, which goes to a file in the data
    directory as it arrives (an XLSX workbook there still takes `max_body_bytes`)."""
    sync_import_rows: int = Field(default=2_000, ge=0)
    """Imports up to this many rows answer at once; larger ones run as a job (202)."""
    max_k: int = Field(default=100, ge=1, le=1000)
    max_page_size: int = Field(default=200, ge=1, le=10_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    bootstrap_admin_key: str | None = Field(default=None, min_length=32)
    """If set, an admin key with this exact value exists at startup (for containers)."""

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql:// URLs are supported")
        if value is not None and value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'clustermatch.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    # abuse (service.ops.guard, service.ops.limits): 0 turns a rate limit off
    rate_limit_per_key: float = Field(default=50.0, ge=0, le=100_000)
    """Requests a second per API key or console user, on average, per process."""
    rate_limit_key_burst: int = Field(default=200, ge=1, le=1_000_000)
    """... and at once."""
    rate_limit_per_ip: float = Field(default=100.0, ge=0, le=100_000)
    """Requests a second per client address (API and console; /healthz, /readyz, /metrics
    and static files are not limited), per process."""
    rate_limit_ip_burst: int = Field(default=400, ge=1, le=1_000_000)
    """... and at once."""
    key_max_failures_per_ip: int = Field(default=20, ge=1, le=100_000)
    """Unknown or revoked API keys from one client address within `key_failure_window_s`
    before that address is refused (429) without a look-up; counted in the database, so
    for every worker and machine."""
    key_failure_window_s: int = Field(default=300, ge=1, le=86_400)

    # console (service.console, service.accounts)
    session_idle_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    """A console session ends after this long without a request."""
    session_max_hours: int = Field(default=12, ge=1, le=24 * 90)
    """... and this long after sign-in, however active."""
    signin_max_failures: int = Field(default=5, ge=1, le=1000)
    """Failed sign-ins to one email within `signin_window_s` before it is refused."""
    signin_max_failures_per_ip: int = Field(default=20, ge=1, le=100_000)
    """... and from one client address (an office behind one NAT address shares it)."""
    signin_window_s: int = Field(default=900, ge=10, le=86_400)
    public_url: str = "http://127.0.0.1:8000"
    """The console's address as users reach it, for the links `users create` prints."""
    trust_forwarded_proto: bool = False
    """Take `X-Forwarded-Proto: https` from a TLS proxy as HTTPS (Secure cookies). uvicorn
    already does so for proxies at FORWARDED_ALLOW_IPS (default 127.0.0.1)."""

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("public_url must start with http:// or https://")
        return value.rstrip("/")
