"""`clustermatch users ...`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from service import cli
from service.accounts import service as accounts
from service.store.db import make_engine, make_sessionmaker, transaction, upgrade
from service.store.tables import ApiKeyRow, ProfileRow


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
        (["--email", "x@example.jp", "--role", "organizer", "--office", "関西"], "an office is"),
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
            "--office",
            " Kansai ",
            *d,
        ],
    )
    assert r.exit_code == 0 and "http://127.0.0.1:8000/console/set-password/" in r.stdout
    assert "office kansai" in r.stdout
    r = runner.invoke(cli.app, ["users", "list", *d])
    lines = r.stdout.strip().splitlines()
    assert lines == [
        "hanako@example.jp\torganizer\tdefault\t-\tinvited\thanako",
        "m@example.jp\tmember\tkansai\tjp-1\tinvited\t精密 太郎",
    ]
    # another office, from the next request; the key number's row says the same
    args = ["users", "set-office", "--email", "hanako@example.jp", "--office", "north", *d]
    r = runner.invoke(cli.app, args)
    assert r.exit_code == 0 and "hanako@example.jp is in office north" in r.stdout, r.output
    assert "\torganizer\tnorth\t" in runner.invoke(cli.app, ["users", "list", *d]).stdout
    with make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'clustermatch.db'}"))() as s:
        user = accounts.find_user(s, "hanako@example.jp")
        assert user is not None
        key = s.get(ApiKeyRow, user.principal_key)
        assert key is not None and key.office == "north"
        assert accounts.principal_for_user(user).office == "north"
    args = ["users", "set-office", "--email", "hanako@example.jp", "--office", "_x", *d]
    r = runner.invoke(cli.app, args)
    assert r.exit_code == 1 and "an office is" in r.output
    assert (
        runner.invoke(cli.app, ["users", "disable", "--email", "M@example.jp", *d]).exit_code == 0
    )
    assert "\tdisabled\t" in runner.invoke(cli.app, ["users", "list", *d]).stdout
    assert runner.invoke(cli.app, ["users", "enable", "--email", "m@example.jp", *d]).exit_code == 0
    r = runner.invoke(cli.app, ["users", "disable", "--email", "who@example.jp", *d])
    assert r.exit_code == 1 and "no user" in r.output
    r = runner.invoke(cli.app, ["users", "reset-password", "--email", "m@example.jp", *d])
    assert r.exit_code == 0 and "/console/set-password/" in r.stdout
