"""Passwords: checked for length, hashed with Argon2id (argon2-cffi's defaults), never kept or logged in clear."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from orchestration.errors import UserError

MIN_LENGTH = 10
MAX_LENGTH = 256  # Argon2 takes any length; a bound keeps a 10 MB "password" from costing a request

_hasher = PasswordHasher()


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
