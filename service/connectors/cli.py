"""`clustermatch import --source edinet|jpx|universities FILE [--dry-run]` and
`clustermatch export`: the CLI side of the connectors (service.cli keeps one line each)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from service.io.connectors import SOURCES
from service.settings import Settings

err = Console(stderr=True)


def check_source(source: str | None) -> str:
    if source is None:
        raise typer.BadParameter("--dry-run needs --source (edinet, jpx or universities)")
    if source not in SOURCES:
        raise typer.BadParameter(f"source must be one of {', '.join(SOURCES)}")
    return source


def print_report(out: dict[str, Any], dry_run: bool, as_json: bool) -> None:
    """A connector import's report: warnings, bad rows and the first merges on stderr,
    then the counts (or the JSON report on stdout)."""
    for warning in out["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {warning}")
    for e in out["errors"][:50]:
        err.print(f"row {e['row']}: {e['field'] or '(row)'}: {e['reason']}")
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
        return
    for m in out["merges"][:20]:
        err.print(f"row {m['row']}: {m['id']} → {m['into']} (same {m['key']} {m['value']})")
    err.print(
        f"{out['source']}: {out['rows']} rows read, {out['skipped']} skipped "
        f"({_reasons(out['skipped_reasons'])}), {out['rejected']} rejected; "
        f"{out['profiles']} profiles, {out['merged']} rows merged "
        f"({_reasons(out['merged_by'])}); {out['created']} created, "
        f"{out['updated']} updated, {out['unchanged']} unchanged"
        + (
            " (a dry run: nothing was written)"
            if dry_run
            else f"; {out['encoded_texts']} texts encoded in {out['took_s']} s"
        )
    )


def _reasons(counts: dict[str, Any]) -> str:
    return ", ".join(f"{v} {k}" for k, v in counts.items()) or "none"


def export_profiles(
    file: Path,
    kinds: list[str] | None,
    countries: list[str] | None,
    cluster: str | None,
    with_contact: bool,
    settings: Settings,
) -> None:
    """Write the profiles passing the filters to `file` (.csv or .xlsx, by its suffix)."""
    from models.profile import KINDS
    from service.connectors.exports import export_rows
    from service.errors import ValidationFailed
    from service.io import spreadsheets
    from service.store.db import transaction

    bad = [k for k in kinds or [] if k not in KINDS]
    if bad:
        raise typer.BadParameter(f"unknown kind {bad[0]!r}; valid: {', '.join(KINDS)}")
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise typer.BadParameter("the file must end in .csv or .xlsx")
    from service.resources import open_resources

    with (
        open_resources(settings, with_engine=False) as resources,
        transaction(resources.sessions) as s,
    ):
        try:
            head, rows = export_rows(
                s, kinds=kinds, countries=countries, cluster=cluster, with_contact=with_contact
            )
            counted: list[int] = [0]

            def counting() -> Any:
                for row in rows:
                    counted[0] += 1
                    yield row

            if suffix == ".xlsx":
                data = spreadsheets.xlsx_bytes(head, counting(), title="profiles")
            else:
                data = spreadsheets.csv_bytes(head, counting())
        except (ValidationFailed, ValueError) as exc:
            err.print(f"[red]{getattr(exc, 'extra', {}).get('errors') or exc}[/red]")
            raise typer.Exit(1) from exc
    file.write_bytes(data)
    err.print(f"{counted[0]} profiles written to {file}")
