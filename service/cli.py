"""`clustermatch` command line: serve the API and administer the store.

The commands that write (import, keys, index) work on the database and index directly; a
server already running on the same data directory picks the changes up at its next start
(use the HTTP import for a live server)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from service.accounts.cli import users_app  # console
from service.runtime import configure_process
from service.settings import Settings

if TYPE_CHECKING:
    from service.resources import Resources

app = typer.Typer(
    help="ClusterMatch: business matching for industrial clusters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
index_app = typer.Typer(help="The vector index.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(index_app, name="index")
app.add_typer(users_app, name="users")  # console
err = Console(stderr=True)

DataDir = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional here
    typer.Option(
        "--data-dir",
        help="Data directory (default: $CLUSTERMATCH_DATA_DIR or ~/.local/share/clustermatch)",
    ),
]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


@contextmanager
def progress_bars() -> Iterator[Any]:
    """Progress bars on a terminal; plain lines (at most one per phase every 5 s) when the
    output is a file or a pipe (CI logs, nohup)."""
    if not err.is_terminal:
        import time

        last: dict[str, float] = {}

        def plain(phase: str, done: int, total: int) -> None:
            now = time.monotonic()
            if done >= total or now - last.get(phase, 0.0) >= 5.0:
                last[phase] = now
                err.print(f"{phase}: {done}/{total}")

        yield plain
        return
    with Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total or 1)
            bar.update(tasks[phase], completed=done, total=total or 1)

        yield update


@contextmanager
def _open(settings: Settings, *, with_engine: bool = True) -> Iterator[Resources]:
    """The process's resources (`service.resources`); with the engine, its index loaded
    and in step with the database."""
    from service.resources import open_resources

    if with_engine:
        err.print(f"loading model {settings.model} ...")
    with open_resources(settings, with_engine=with_engine) as resources:
        if with_engine:
            with progress_bars() as progress:
                resources.engine.reconcile(progress)
        yield resources


def _read(
    parser: Any,
    file: Path,
    format: str,
    encoding: str | None,
    as_json: bool = False,
    **kwargs: Any,
) -> Any:
    """Parse an import file, or exit 2 with the reason the file cannot be read (with
    --json, also as a problem document on stdout)."""
    from service.io.imports import ImportFormatError

    if format not in ("auto", "jsonl", "csv", "xlsx"):
        raise typer.BadParameter("format must be auto, jsonl, csv or xlsx")
    try:
        return parser(
            file.read_bytes(), format=format, encoding=encoding, filename=file.name, **kwargs
        )
    except ImportFormatError as exc:
        raise _invalid_file(file, "cannot be read", [("file", str(exc))], as_json) from exc


def _audit(sessions: Any, command: str, detail: dict[str, Any] | None = None) -> None:
    """An audit log entry for a writing command (service.audit), in a transaction of its
    own after the command's work."""
    from service.audit.service import record_cli
    from service.store.db import transaction

    with transaction(sessions) as s:
        record_cli(s, command, detail)


def _rejected(exc: Any, as_json: bool) -> typer.Exit:
    """Print a file's invalid rows (nothing was imported) and return the exit to raise."""
    for e in exc.extra["errors"][:50]:
        err.print(f"row {e['row']}: {e['field'] or '(row)'}: {e['reason']}")
    err.print(f"[red]{exc.detail}[/red]")
    if as_json:
        print(json.dumps(exc.problem(), ensure_ascii=False))
    return typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    data_dir: DataDir = None,
    workers: Annotated[int, typer.Option(help="Worker processes (each loads the model)")] = 1,
) -> None:
    """Start the HTTP API."""
    if data_dir:
        os.environ["CLUSTERMATCH_DATA_DIR"] = str(data_dir)
    run_server("service.app:create_app", host=host, port=port, workers=workers)


def run_server(factory: str, *, host: str, port: int, workers: int = 1) -> None:
    """uvicorn on an app factory ("module:function"). With several workers the listening
    socket is made here, as a TCP socket by protocol: uvicorn's own (protocol 0) makes
    asyncio skip TCP_NODELAY on accepted connections, so that every response would wait
    ~40 ms for a delayed ACK."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        # How long uvicorn waits for a worker's answer, and for a replacement to start
        # serving in a rolling restart (SIGHUP): loading a 100k-profile index takes ~25 s,
        # far beyond the default 5 s.
        timeout_worker_healthcheck=120,
    )
    if workers <= 1:
        uvicorn.Server(config).run()
        return
    # Workers share the socket: one still loading must not take requests (it would answer
    # 503 while the others are ready), so each starts accepting once its index is loaded.
    os.environ.setdefault("CLUSTERMATCH_SERVE_WHEN_READY", "true")
    # ... and a worker that is matching takes no new connection meanwhile: an idle one does.
    os.environ.setdefault("CLUSTERMATCH_MATCH_INLINE", "true")
    # ... and one that wakes to several waiting connections takes one, then lets the
    # others have a turn (libuv, under uvloop, would accept all of them, queueing the
    # second behind the first in the same busy process while another sits idle).
    os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    format: Annotated[str, typer.Option(help="auto, jsonl, csv or xlsx")] = "auto",
    encoding: Annotated[str | None, typer.Option(help="e.g. utf-8, cp932; default: detect")] = None,
    allow_partial: Annotated[
        bool, typer.Option(help="Import the valid rows of a file with bad ones")
    ] = False,
    unknown_columns: Annotated[
        str, typer.Option(help="error, or ignore: import a CSV with extra columns (備考 ...)")
    ] = "error",
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    source: Annotated[
        str | None,
        typer.Option(help="A published list: edinet, jpx or universities (README, Connectors)"),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(help="With --source: show what would be created and merged; write nothing"),
    ] = False,
    office: Annotated[
        str,
        typer.Option(
            help="The cluster office of the new profiles (stored ones keep theirs): its "
            "organizers write them"
        ),
    ] = "default",
    encoder: Annotated[
        str | None,
        typer.Option(
            help="Where texts are encoded: local (this process) or ray (a Ray cluster: "
            "CLUSTERMATCH_RAY_ADDRESS, or a local one); default: CLUSTERMATCH_ENCODER"
        ),
    ] = None,
) -> None:
    """Import profiles from a JSONL, CSV or XLSX file (UTF-8 / BOM / cp932), or a published
    list with --source. JSONL and CSV files are read as they stream, in chunks. The command
    line is an admin's: it writes any profile."""
    from service.auth import clean_office
    from service.errors import ValidationFailed
    from service.io.imports import ImportFormatError
    from service.io.xlsx import is_xlsx, parse_profile_upload
    from service.profiles.service import checked_scan, import_checked, import_parsed

    try:
        office = clean_office(office)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--office") from exc
    if source is not None or dry_run:  # a published list, through its connector
        from service.connectors.cli import check_source, print_report
        from service.connectors.service import import_path

        name = check_source(source)
        list_settings = _settings(data_dir)
        if encoder is not None:
            list_settings = list_settings.model_copy(update={"encoder": _encoder_choice(encoder)})
        with _open(list_settings, with_engine=not dry_run) as resources:
            list_engine = None if dry_run else resources.engine
            try:
                with progress_bars() as progress:
                    list_report = import_path(
                        list_engine,
                        resources.sessions,
                        name,
                        lambda: file.open("rb"),
                        encoding=encoding,
                        allow_partial=allow_partial,
                        dry_run=dry_run,
                        progress=progress,
                        max_rows=list_settings.max_import_rows,
                        office=office,
                    )
            except ImportFormatError as exc:
                raise _invalid_file(file, "cannot be read", [("file", str(exc))], as_json) from exc
            except ValidationFailed as exc:
                raise _rejected(exc, as_json) from exc
            if list_engine is not None and list_engine.dirty:
                list_engine.save()
            list_out = list_report.to_dict()
            if not dry_run:
                keys = ("source", "rows", "created", "updated", "unchanged", "rejected", "merged")
                _audit(resources.sessions, "import", {k: list_out[k] for k in keys})
        print_report(list_out, dry_run, as_json)
        return
    if unknown_columns not in ("error", "ignore"):
        raise typer.BadParameter("unknown-columns must be error or ignore")
    settings = _settings(data_dir)
    if encoder is not None:
        settings = settings.model_copy(update={"encoder": _encoder_choice(encoder)})
    with file.open("rb") as head:
        workbook = format == "xlsx" or (format == "auto" and is_xlsx(head.read(8), file.name))
    if workbook:  # read whole (at most CLUSTERMATCH_MAX_IMPORT_ROWS rows), as it always was
        parsed = _read(
            parse_profile_upload,
            file,
            format,
            encoding,
            as_json,
            max_rows=settings.max_import_rows,
            unknown_columns=unknown_columns,
        )
    else:  # read as it streams: checked first, before the model loads
        check = _check(file, format, encoding, settings, unknown_columns, as_json)
        try:
            checked_scan(check, allow_partial=allow_partial)
        except ValidationFailed as exc:
            raise _rejected(exc, as_json) from exc
    with _open(settings) as resources:
        engine = resources.engine
        try:
            with progress_bars() as progress:
                if workbook:
                    report = import_parsed(
                        engine,
                        resources.sessions,
                        parsed,
                        allow_partial=allow_partial,
                        progress=progress,
                        office=office,
                    )
                else:
                    report = import_checked(
                        engine,
                        resources.sessions,
                        lambda: file.open("rb"),
                        check,
                        allow_partial=allow_partial,
                        progress=progress,
                        office=office,
                    )
        except ValidationFailed as exc:
            raise _rejected(exc, as_json) from exc
        except ImportFormatError as exc:  # (the file changed after its check)
            raise _invalid_file(file, "cannot be read", [("file", str(exc))], as_json) from exc
        if engine.dirty:
            engine.save()
        out = report.to_dict()
        _audit(
            resources.sessions,
            "import",
            {k: out[k] for k in ("rows", "created", "updated", "unchanged", "rejected")},
        )
    for warning in out["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {warning}")
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        err.print(
            f"{out['rows']} rows: {out['created']} created, {out['updated']} updated, "
            f"{out['unchanged']} unchanged, {out['rejected']} rejected; "
            f"{out['encoded_texts']} texts encoded in {out['took_s']} s"
        )


def _encoder_choice(value: str) -> str:
    if value not in ("local", "ray"):
        raise typer.BadParameter("encoder must be local or ray")
    return value


def _check(
    file: Path,
    format: str,
    encoding: str | None,
    settings: Settings,
    unknown_columns: str,
    as_json: bool,
) -> Any:
    """The first pass over a JSONL / CSV file (service.io.bulk), with a progress bar in
    bytes; or exit 2 with the reason the file cannot be read."""
    from service.io.bulk import check_profiles
    from service.io.imports import ImportFormatError

    if format not in ("auto", "jsonl", "csv", "xlsx"):
        raise typer.BadParameter("format must be auto, jsonl, csv or xlsx")
    size = file.stat().st_size
    try:
        with progress_bars() as progress:
            return check_profiles(
                lambda: file.open("rb"),
                format=format,  # type: ignore[arg-type]
                encoding=encoding,
                filename=file.name,
                max_rows=settings.max_bulk_import_rows,
                unknown_columns=unknown_columns,  # type: ignore[arg-type]
                progress=lambda done: progress("checking", done, size),
            )
    except ImportFormatError as exc:
        raise _invalid_file(file, "cannot be read", [("file", str(exc))], as_json) from exc


@app.command("export")
def export(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="profiles.csv or profiles.xlsx")],
    kind: Annotated[Optional[list[str]], typer.Option(help="Only this kind (repeatable)")] = None,  # noqa: UP045
    country: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer needs Optional here
        typer.Option(help="Only this country (repeatable)"),
    ] = None,
    cluster: Annotated[str | None, typer.Option(help="Only this cluster")] = None,
    contact: Annotated[bool, typer.Option(help="Include the private contact column")] = False,
    data_dir: DataDir = None,
) -> None:
    """Export profiles for Excel: CSV (UTF-8 with BOM) or XLSX, by the file's suffix."""
    from service.connectors.cli import export_profiles

    export_profiles(file, kind, country, cluster, contact, _settings(data_dir))


@app.command("import-interactions")
def import_interactions(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    format: Annotated[str, typer.Option(help="auto, jsonl or csv")] = "auto",
    encoding: Annotated[Optional[str], typer.Option(help="default: detect")] = None,  # noqa: UP045
    allow_partial: Annotated[bool, typer.Option(help="Import the valid rows only")] = False,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Import past interactions (collaborations, meetings, follow-ups, deals, declines)."""
    from service.errors import ValidationFailed
    from service.interactions.service import save_interactions
    from service.io.imports import parse_interactions

    parsed = _read(parse_interactions, file, format, encoding, as_json)
    with _open(_settings(data_dir)) as resources:
        try:
            report = save_interactions(
                resources.engine, resources.sessions, parsed, allow_partial=allow_partial
            )
        except ValidationFailed as exc:
            raise _rejected(exc, as_json) from exc
        out = report.to_dict()
        _audit(
            resources.sessions,
            "import-interactions",
            {k: out[k] for k in ("rows", "created", "unchanged", "rejected")},
        )
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        err.print(
            f"{out['rows']} rows: {out['created']} created, {out['unchanged']} unchanged, "
            f"{out['rejected']} rejected"
        )


@app.command()
def train(
    seed: Annotated[int, typer.Option(help="Seed of the held-out sample and the model")] = 0,
    max_queries: Annotated[int, typer.Option(help="Training queries to sample")] = 1500,
    data_dir: DataDir = None,
) -> None:
    """Retrain the learned re-ranker on the stored interactions."""
    from service.offline.learning import train_reranker

    with _open(_settings(data_dir)) as resources, progress_bars() as progress:
        report = train_reranker(
            resources.engine, seed=seed, max_queries=max_queries, progress=progress
        )
        _audit(resources.sessions, "train", {"seed": seed, "method": report.method})
    print(json.dumps(report.to_dict()))


@app.command()
def evaluate(
    profiles: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Profiles JSONL/CSV")],
    queries: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Queries JSONL")],
    interactions: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Interactions JSONL/CSV (none, or an empty file: no history, hand weights)",
        ),
    ] = None,
    k: Annotated[int, typer.Option(min=1, max=1000, help="Cut-off of the metrics")] = 10,
    seed: Annotated[int, typer.Option(help="Seed (training sample, random baseline)")] = 0,
    embedding_cache: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="SQLite file to reuse embeddings between runs (content-addressed)"),
    ] = None,
    diversity: Annotated[
        float,
        typer.Option(min=0.01, max=1.0, help="Strength of the diversity option (system_diverse)"),
    ] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object last")] = False,
) -> None:
    """Recall@k, nDCG@k and MRR per task for the system and the baselines (random,
    popularity, TF-IDF, dense) on a fresh temporary store."""
    from service.offline.evaluation import evaluate as run
    from service.offline.evaluation import format_table
    from service.resources import load_encoder

    settings = Settings()
    err.print(f"loading model {settings.model} ...")
    encoder = load_encoder(settings)
    try:
        with progress_bars() as progress:
            result = run(
                profiles,
                interactions,
                queries,
                k=k,
                seed=seed,
                encoder=encoder,
                embedding_cache=embedding_cache,
                progress=progress,
                diversity=diversity,
            )
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    print(format_table(result))
    print(f"setup: {json.dumps(result['setup'])}")
    if as_json:
        print(json.dumps(result))


@app.command()
def schedule(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    time_limit: Annotated[float, typer.Option(min=0.1, max=3600, help="Seconds")] = 30.0,
    fairness: Annotated[int, typer.Option(help=".dzn only: max breaks spread d (<0: none)")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object last")] = False,
) -> None:
    """Solve a meeting schedule offline: an event file (.json: pairing list with wishes,
    rules and locked meetings) or a B2B instance in MiniZinc data (.dzn: agreed meetings,
    fewest idle breaks)."""
    if file.suffix.lower() == ".dzn":
        from models.b2b import solve_file
        from models.b2b.instance import B2BError

        try:
            result = solve_file(file, fairness=fairness, time_limit=time_limit).to_json()
        except B2BError as exc:
            raise _invalid_file(file, str(exc), [], as_json) from exc
        summary = f"{result['status']}: {result['breaks']} breaks (bound {result['bound']})"
    else:
        from models.events import (
            EventValidationError,
            Issue,
            solve_event_file,
            unknown_keys,
        )
        from service.errors import json_error_reason

        text = file.read_bytes().decode("utf-8-sig", errors="replace")
        try:
            data = json.loads(text)
        except ValueError as exc:
            pos = exc.pos if isinstance(exc, json.JSONDecodeError) else 0
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            reason = json_error_reason(text, pos, msg)
            raise _invalid_file(file, "not a JSON event file", [("", reason)], as_json) from exc
        if not isinstance(data, dict):
            raise _invalid_file(file, "the event must be a JSON object", [], as_json)
        try:
            extra = unknown_keys(data)
            if extra:
                raise EventValidationError(extra)
            result = solve_event_file(data, time_limit=time_limit)
        except EventValidationError as exc:
            issues: list[Issue] = list(exc.issues)
            raise _invalid_file(
                file,
                f"the event is invalid ({len(issues)} problems)",
                [(i.path, i.reason) for i in issues],
                as_json,
            ) from exc
        summary = (
            f"{result.get('status')}: {len(result['meetings'])} meetings, objective "
            f"{result['objective']} (bound {result['bound']}, gap {result['gap']}), "
            f"greedy {result['greedy_objective']}, {len(result['unplaced'])} unplaced"
        )
    err.print(summary)
    if as_json:
        print(json.dumps(result, ensure_ascii=False))


def _invalid_file(
    file: Path, detail: str, errors: list[tuple[str, str]], as_json: bool
) -> typer.Exit:
    """Report a file that cannot be used (each problem on stderr; with --json also one
    problem document on stdout, the shape of the API's 422) and return the exit (2)."""
    err.print(f"[red]{file}: {detail}[/red]")
    for path, reason in errors[:50]:
        err.print(f"{path}: {reason}" if path else reason)
    if as_json:
        from service.errors import ValidationFailed

        problem = ValidationFailed(
            f"{file.name}: {detail}",
            errors=[{"field": path, "reason": reason} for path, reason in errors],
        ).problem()
        print(json.dumps(problem, ensure_ascii=False))
    return typer.Exit(2)


@app.command()
def demo(data_dir: DataDir = None) -> None:
    """Load the demo: the bundled corpus (fictional organizations in ja/en/it/ko), their
    past interactions, a scheduled demo event and two console sign-ins (printed; the
    passwords are new on every run)."""
    from service.demo import seed

    settings = _settings(data_dir)
    with _open(settings) as resources:
        with progress_bars() as progress:
            report = seed.load(resources, progress=progress)
        if resources.engine.dirty:
            resources.engine.save()
    err.print(
        f"demo corpus: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged; {report.interactions} interactions added; "
        f"demo event {report.event_id} scheduled with {report.meetings} meetings"
    )
    for sign_in in report.sign_ins:
        print(f"{sign_in.role:10s} {sign_in.email:28s} {sign_in.password}")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, organizer or member")],
    name: Annotated[str, typer.Option(help="Who the key is for")] = "",
    profile_id: Annotated[
        str | None, typer.Option(help="The profile a member key belongs to")
    ] = None,
    office: Annotated[
        str,
        typer.Option(
            help="The cluster office the key works for (a-z, 0-9, _ . -): an organizer's key "
            "manages its office's profiles and events"
        ),
    ] = "default",
    data_dir: DataDir = None,
) -> None:
    """Create an API key and print it (it is shown only once). The key works for a server
    on the same data directory (or database): the one used is printed to stderr."""
    from service.audit.service import record_cli
    from service.auth import ROLES, create_key
    from service.store import profiles
    from service.store.db import transaction

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    settings = _settings(data_dir)
    with _open(settings, with_engine=False) as resources:
        try:
            with transaction(resources.sessions) as s:
                if profile_id is not None and profiles.pk_of(s, profile_id) is None:
                    raise typer.BadParameter(
                        f"no profile with id '{profile_id}' in {settings.data_dir}: import "
                        "it first, or give the data directory the server uses (--data-dir)",
                        param_hint="--profile-id",
                    )
                row, key = create_key(s, role, name=name, profile_id=profile_id, office=office)  # type: ignore[arg-type]
                record_cli(s, "keys create", {"key": row.pk, "role": role, "office": row.office})
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    where = (
        settings.data_dir
        if settings.database_url is None
        else settings.resolved_database_url.split("@")[-1]
    )
    err.print(
        f"{role} key stored in {where} (office {row.office}; a server on another data "
        "directory will answer 401)",
        soft_wrap=True,  # the path whole, to copy
    )
    print(key)


@keys_app.command("list")
def keys_list(data_dir: DataDir = None) -> None:
    """List API keys (never their secrets): number, role, office, state, profile, name."""
    from service.store import keys

    with _open(_settings(data_dir), with_engine=False) as resources, resources.sessions() as s:
        for row in keys.all_keys(s):
            state = "revoked" if row.revoked_at else "active"
            print(
                f"{row.pk}\t{row.role}\t{row.office}\t{state}\t{row.profile_id or '-'}\t{row.name}"
            )


@keys_app.command("revoke")
def keys_revoke(key_id: int, data_dir: DataDir = None) -> None:
    """Revoke an API key by its number (see `keys list`)."""
    from service.audit.service import record_cli
    from service.auth import revoke_key
    from service.store.db import transaction

    with _open(_settings(data_dir), with_engine=False) as resources:
        with transaction(resources.sessions) as s:
            revoked = revoke_key(s, key_id)
            if revoked:
                record_cli(s, "keys revoke", {"key": key_id})
        if not revoked:
            err.print(f"no active key {key_id}")
            raise typer.Exit(1)


@index_app.command("rebuild")
def index_rebuild(data_dir: DataDir = None) -> None:
    """Rebuild the vector index from the database (embeddings come from the cache)."""
    with _open(_settings(data_dir)) as resources, progress_bars() as progress:
        summary = resources.engine.reconcile(progress, rebuild=True)
    err.print(f"rebuilt: {summary}")


@index_app.command("status")
def index_status(data_dir: DataDir = None) -> None:
    """Show the saved index metadata."""
    settings = _settings(data_dir)
    pointer = settings.index_dir / "CURRENT"
    if not pointer.exists():
        err.print("no saved index")
        raise typer.Exit(1)
    gen = settings.index_dir / pointer.read_text().strip()
    out: dict[str, Any] = {}
    for facet in ("all", "offers", "needs"):
        for meta in sorted((gen / facet).rglob("meta.json")):
            out[facet] = json.loads(meta.read_text())
    print(json.dumps(out, indent=2))


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(file_okay=False, help="A new or empty directory")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Write a consistent snapshot (database, index, re-ranker) while servers run."""
    from service.ops.backup import BackupError, as_dict
    from service.ops.backup import backup as run_backup

    try:
        report = run_backup(_settings(data_dir), dest)
    except BackupError as exc:
        err.print(f"backup failed: {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        print(json.dumps(as_dict(report)))
    else:
        err.print(
            f"backed up {report.profiles} profiles ({report.database}, "
            f"{report.bytes / 1e6:.1f} MB) into {report.path} in {report.seconds:.1f} s"
        )


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="A backup")],
    data_dir: DataDir = None,
    force: Annotated[
        bool, typer.Option(help="Replace a target database that already holds data")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Restore a backup into the configured database and data directory (stop the
    servers of the target first)."""
    from service.ops.backup import BackupError, as_dict
    from service.ops.backup import restore as run_restore

    try:
        report = run_restore(_settings(data_dir), source, force=force)
    except BackupError as exc:
        err.print(f"restore failed: {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        print(json.dumps(as_dict(report)))
    else:
        err.print(
            f"restored {report.profiles} profiles ({report.database}) from {report.path} "
            f"in {report.seconds:.1f} s"
        )


def main() -> None:
    """The `clustermatch` command. Process settings come first: the console script runs
    with the environment's bin directory on the import path, and nothing imported so far
    has loaded numpy."""
    configure_process()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
