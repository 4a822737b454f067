"""Passwords: checked for length, hashed with Argon2id, never kept or logged in clear.

Parameters: OWASP's Password Storage Cheat Sheet's first Argon2id option (19 MiB, 2 passes, 1 lane), about
0.15 s per sign-in on a busy 2-core machine; argon2-cffi's own default (64 MiB, 3 passes, 4 lanes) took 0.9 s
there, too slow for a console shared by many users on one small server. Each hash carries its parameters, so
raising them later keeps old hashes verifiable."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from orchestration.errors import UserError

MIN_LENGTH = 10
MAX_LENGTH = 256  # Argon2 takes any length; a bound keeps a 10 MB "password" from costing a request

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def check_password(password: object) -> str:
    """The password itself when it is acceptable, else a UserError saying why (never echoing it)."""
    if not isinstance(password, str) or not password.strip():
        raise UserError("The password is empty.")
    if len(password) < MIN_LENGTH:
        raise UserError(f"The password is too short: use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise UserError(f"The password is too long: use at most {MAX_LENGTH} characters.")
    return password


def hash_password(password: str) -> str:
    """An Argon2id hash (salt and parameters inside) of an acceptable password."""
    return _hasher.hash(check_password(password))


def verify(password_hash: str, password: str) -> bool:
    """True when `password` matches the hash; a too long password never reaches Argon2."""
    if not isinstance(password, str) or not password or len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


def verify_nobody(password: str) -> None:
    """Spend the time of one verification for an unknown email, so timing does not tell who has an account."""
    verify(_DUMMY_HASH, password)
