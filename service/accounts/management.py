"""What an admin does with accounts and keys: find a user by number, change a user's role,
disable or enable a user, list, issue and revoke API keys. Each function takes the
acting `Principal` and requires the admin role (as the API would), and never commits.

Console users each own a revoked api_keys row, their key number (service.accounts.service,
`principal_for_user`): it is no API key, so it is neither listed nor revocable here.

Errors: `InvalidUser` (service.accounts.service) for a bad role or profile, with its
`code` a message key; `SelfChange` when an admin would lock themself out; `NotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from service.accounts.service import (
    AccountError,
    InvalidUser,
    check_office,
    set_disabled,
    set_office,
)
from service.auth import ROLES, Principal, Role, create_key, revoke_key
from service.errors import NotFound
from service.store import keys as key_rows
from service.store import users as repo
from service.store.db import Session
from service.store.tables import ApiKeyRow, UserRow, utcnow

KEY_NAME_MAX = 200


class SelfChange(AccountError):
    """An admin may not disable themself or change their own role (from where they act,
    they would lose the means to undo it)."""


def _check_role(session: Session, role: str, profile_id: str | None) -> str | None:
    """The profile id the role takes (None unless member); InvalidUser otherwise."""
    if role not in ROLES:
        raise InvalidUser("user.role_invalid", f"role must be one of {', '.join(ROLES)}")
    profile = (profile_id or "").strip() or None
    if role == "member" and not profile:
        raise InvalidUser("user.profile_required", "a member belongs to a profile")
    if role != "member" and profile:
        raise InvalidUser("user.profile_not_allowed", "only a member belongs to a profile")
    if profile and (len(profile) > 128 or not repo.profile_exists(session, profile)):
        raise InvalidUser("user.profile_unknown", f"no profile with id '{profile[:128]}'")
    return profile


def user(session: Session, caller: Principal, pk: int) -> UserRow:
    caller.require("admin")
    found = repo.user_by_pk(session, pk) if 0 < pk < 2**31 else None
    if found is None:
        raise NotFound(f"no user {pk}")
    return found


def change_role(
    session: Session,
    caller: Principal,
    pk: int,
    role: str,
    profile_id: str | None = None,
    office: str | None = None,
) -> UserRow:
    """A user's new role (and profile, for a member), and office unless `office` is None.
    It applies from their next request. What they made stays where it is: events and
    programmes with the office they were made in, shortlists with the user."""
    row = user(session, caller, pk)
    if row.principal_key == caller.key_pk:
        raise SelfChange("self_change", "you cannot change your own role")
    profile = _check_role(session, role, profile_id)
    if office is not None:
        set_office(session, row, office)
    row.role, row.profile_id, row.updated_at = role, profile, utcnow()
    key = key_rows.get(session, row.principal_key)
    if key is not None:  # the key number's row says the same (it is never a usable key)
        key.role, key.profile_id = role, profile
    return row


def set_user_disabled(session: Session, caller: Principal, pk: int, disabled: bool) -> UserRow:
    """Disable (their sessions end at once) or enable a user."""
    row = user(session, caller, pk)
    if disabled and row.principal_key == caller.key_pk:
        raise SelfChange("self_disable", "you cannot disable yourself")
    set_disabled(session, row, disabled)
    return row


# ---------------------------------------------------------------------------- API keys


def api_keys(session: Session, caller: Principal) -> list[ApiKeyRow]:
    """Every API key, oldest first, without the console users' key numbers."""
    caller.require("admin")
    users = {u.principal_key for u in repo.all_users(session)}
    return [k for k in key_rows.all_keys(session) if k.pk not in users]


@dataclass(frozen=True)
class NewKey:
    row: ApiKeyRow
    secret: str
    """Shown once: only its digest is stored."""


def create_api_key(
    session: Session,
    caller: Principal,
    role: str,
    name: str,
    profile_id: str | None = None,
    office: str | None = None,
) -> NewKey:
    """A new key of `office` (None or blank: the default office)."""
    caller.require("admin")
    label = name.strip()
    if len(label) > KEY_NAME_MAX or any(ord(c) < 0x20 for c in label):
        raise InvalidUser("key_name_invalid", f"at most {KEY_NAME_MAX} characters")
    profile = _check_role(session, role, profile_id)
    where = check_office(office)
    row, secret = create_key(
        session, cast(Role, role), name=label, profile_id=profile, office=where
    )
    return NewKey(row, secret)


def api_key(session: Session, caller: Principal, pk: int) -> ApiKeyRow:
    """An API key (not a console user's key number); NotFound otherwise."""
    caller.require("admin")
    row = key_rows.get(session, pk) if 0 < pk < 2**31 else None
    if row is None or any(u.principal_key == pk for u in repo.all_users(session)):
        raise NotFound(f"no API key {pk}")
    return row


def revoke_api_key(session: Session, caller: Principal, pk: int) -> ApiKeyRow:
    """Revoke a key (no more requests with it, within the key cache's few seconds)."""
    row = api_key(session, caller, pk)
    revoke_key(session, row.pk)
    return row
