"""Password hashing (argon2id through argon2-cffi) and the password rules.

Hashes carry their own parameters, so raising the cost later is a change of `HASHER`
alone: a stored hash made with older parameters is replaced at its next successful
sign-in (`verify` returns the new hash)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024
"""Longer inputs are refused rather than hashed: each costs the server hashing work."""

# argon2-cffi's defaults (RFC 9106's second recommended profile: 64 MiB, 3 passes).
HASHER = PasswordHasher()

# Verified against when the email is unknown, so that the answer takes as long as for a
# known email with a wrong password (the time must not tell which emails exist).
_DUMMY_HASH: str | None = None


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, replacement hash or None). `stored` None (no password set yet, or no such
    user) spends the same time and never matches."""
    global _DUMMY_HASH
    if stored is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = HASHER.hash("not a password of anyone")
        stored = _DUMMY_HASH
        password = password + "\0"  # never equal to the dummy's input
    try:
        HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if HASHER.check_needs_rehash(stored):
        return True, HASHER.hash(password)
    return True, None


def password_problem(password: str, *, email: str = "") -> str | None:
    """The rule a new password breaks, as a message key, or None."""
    if len(password) < MIN_LENGTH:
        return "password.too_short"
    if len(password) > MAX_LENGTH:
        return "password.too_long"
    if not password.strip():
        return "password.blank"
    if email and password.strip().lower() == email.strip().lower():
        return "password.is_email"
    return None
