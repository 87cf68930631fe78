"""`clustermatch users ...`: console accounts from the command line (the first admin
comes from here). Works on the database directly, like `keys`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from service.settings import Settings

users_app = typer.Typer(help="Console users (sign-in accounts).", no_args_is_help=True)

DataDir = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional here
    typer.Option("--data-dir", help="Data directory (default: $CLUSTERMATCH_DATA_DIR)"),
]
Email = Annotated[str, typer.Option("--email", help="The user's email (any case)")]
Office = Annotated[
    str,
    typer.Option(
        "--office",
        help="The cluster office the user works for (a-z, 0-9, _ . -): an organizer manages "
        "its office's profiles and events",
    ),
]


def _open(data_dir: Path | None) -> tuple[Settings, Any]:
    from service.store.db import make_engine, make_sessionmaker, upgrade

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = make_engine(settings.resolved_database_url)
    upgrade(db)
    return settings, make_sessionmaker(db)


def _link(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/console/set-password/{token}"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@users_app.command("create")
def users_create(
    email: Email,
    role: Annotated[str, typer.Option(help="admin, organizer or member")],
    profile_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--profile-id", help="The profile a member belongs to"),
    ] = None,
    name: Annotated[str, typer.Option(help="Display name (default: the email's name)")] = "",
    office: Office = "default",
    data_dir: DataDir = None,
) -> None:
    """Create a user and print a one-time link to set the password (valid 7 days)."""
    from service.accounts.service import InvalidUser, create_user, issue_password_link
    from service.audit.service import record_cli
    from service.store.db import transaction

    settings, sessions = _open(data_dir)
    try:
        with transaction(sessions) as s:
            user = create_user(
                s,
                email=email,
                role=role,
                display_name=name,
                profile_id=profile_id,
                office=office,
            )
            token = issue_password_link(s, user)
            record_cli(
                s, "users create", {"user": user.pk, "role": user.role, "office": user.office}
            )
    except InvalidUser as exc:
        raise _fail(exc.detail) from exc
    typer.echo(
        f"created {user.email} ({user.role}, office {user.office}); "
        "the link to set a password, valid 7 days:"
    )
    typer.echo(_link(settings, token))


@users_app.command("reset-password")
def users_reset_password(email: Email, data_dir: DataDir = None) -> None:
    """Print a new one-time link to set the user's password (earlier links stop working)."""
    from service.accounts.service import find_user, issue_password_link
    from service.audit.service import record_cli
    from service.store.db import transaction

    settings, sessions = _open(data_dir)
    with transaction(sessions) as s:
        user = find_user(s, email)
        if user is None:
            raise _fail(f"no user with the email {email}")
        token = issue_password_link(s, user)
        record_cli(s, "users reset-password", {"user": user.pk})
    typer.echo(_link(settings, token))


@users_app.command("list")
def users_list(data_dir: DataDir = None) -> None:
    """List users: email, role, office, profile, state, name (tab-separated)."""
    from service.accounts.service import list_users

    _, sessions = _open(data_dir)
    with sessions() as s:
        for u in list_users(s):
            state = "disabled" if u.disabled_at else "active" if u.password_hash else "invited"
            typer.echo(
                f"{u.email}\t{u.role}\t{u.office}\t{u.profile_id or '-'}\t{state}\t{u.display_name}"
            )


@users_app.command("set-office")
def users_set_office(email: Email, office: Office, data_dir: DataDir = None) -> None:
    """Move a user to another office, from their next request. What they made stays in the
    office it was made in (an admin moves an event: PUT /v1/events/{id}/office)."""
    from service.accounts.service import InvalidUser, find_user, set_office
    from service.audit.service import record_cli
    from service.store.db import transaction

    _, sessions = _open(data_dir)
    try:
        with transaction(sessions) as s:
            user = find_user(s, email)
            if user is None:
                raise _fail(f"no user with the email {email}")
            set_office(s, user, office)
            record_cli(s, "users set-office", {"user": user.pk, "office": user.office})
    except InvalidUser as exc:
        raise _fail(exc.detail) from exc
    typer.echo(f"{user.email} is in office {user.office}")


def _set_disabled(email: str, disabled: bool, data_dir: Path | None) -> None:
    from service.accounts.service import find_user, set_disabled
    from service.audit.service import record_cli
    from service.store.db import transaction

    _, sessions = _open(data_dir)
    with transaction(sessions) as s:
        user = find_user(s, email)
        if user is None:
            raise _fail(f"no user with the email {email}")
        set_disabled(s, user, disabled)
        record_cli(s, "users disable" if disabled else "users enable", {"user": user.pk})


@users_app.command("disable")
def users_disable(email: Email, data_dir: DataDir = None) -> None:
    """Disable a user: sign-in is refused and their open sessions end at once."""
    _set_disabled(email, True, data_dir)


@users_app.command("enable")
def users_enable(email: Email, data_dir: DataDir = None) -> None:
    """Enable a disabled user again."""
    _set_disabled(email, False, data_dir)
