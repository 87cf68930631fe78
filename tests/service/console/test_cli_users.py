"""`clustermatch users ...`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from service import cli
from service.store.db import make_engine, make_sessionmaker, transaction, upgrade
from service.store.tables import ProfileRow


def test_users_create_list_disable(tmp_path: Path, monkeypatch: object) -> None:
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path)]
    engine = make_engine(f"sqlite:///{tmp_path / 'clustermatch.db'}")
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        s.add(ProfileRow(id="jp-1", name="精密", kind="firm", data={}, content_hash="x"))
    engine.dispose()

    env = {"CLUSTERMATCH_PUBLIC_URL": "https://console.example.jp/"}
    r = runner.invoke(
        cli.app,
        ["users", "create", "--email", "Hanako@Example.jp", "--role", "organizer", *d],
        env=env,
    )
    assert r.exit_code == 0, r.output
    link = r.stdout.strip().splitlines()[-1]
    assert link.startswith("https://console.example.jp/console/set-password/")
    assert len(link.rsplit("/", 1)[1]) >= 40

    for args, reason in [
        (["--email", "m@example.jp", "--role", "member"], "profile"),
        (["--email", "m@example.jp", "--role", "member", "--profile-id", "nope"], "no profile"),
        (["--email", "hanako@example.jp", "--role", "admin"], "exists"),
        (["--email", "x@example.jp", "--role", "boss"], "role"),
    ]:
        r = runner.invoke(cli.app, ["users", "create", *args, *d])
        assert r.exit_code == 1 and reason in r.output, (args, r.output)

    r = runner.invoke(
        cli.app,
        [
            "users",
            "create",
            "--email",
            "m@example.jp",
            "--role",
            "member",
            "--profile-id",
            "jp-1",
            "--name",
            "精密 太郎",
            *d,
        ],
    )
    assert r.exit_code == 0 and "http://127.0.0.1:8000/console/set-password/" in r.stdout
    r = runner.invoke(cli.app, ["users", "list", *d])
    lines = r.stdout.strip().splitlines()
    assert lines == [
        "hanako@example.jp\torganizer\t-\tinvited\thanako",
        "m@example.jp\tmember\tjp-1\tinvited\t精密 太郎",
    ]
    assert (
        runner.invoke(cli.app, ["users", "disable", "--email", "M@example.jp", *d]).exit_code == 0
    )
    assert "\tdisabled\t" in runner.invoke(cli.app, ["users", "list", *d]).stdout
    assert runner.invoke(cli.app, ["users", "enable", "--email", "m@example.jp", *d]).exit_code == 0
    r = runner.invoke(cli.app, ["users", "disable", "--email", "who@example.jp", *d])
    assert r.exit_code == 1 and "no user" in r.output
    r = runner.invoke(cli.app, ["users", "reset-password", "--email", "m@example.jp", *d])
    assert r.exit_code == 0 and "/console/set-password/" in r.stdout
