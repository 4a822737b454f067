"""The Fernet key that encrypts auth tokens: from $BKNTC_SMS_SECRET_KEY or a 0600 key file outside the ledger."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from orchestration.config import Home
from orchestration.errors import UserError

SECRET_KEY_ENV = "BKNTC_SMS_SECRET_KEY"


class TokenCipher:
    """Encrypts and decrypts secrets with one Fernet key; messages never contain the secret or the key."""

    def __init__(self, key: bytes, origin: str):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            message = f"The secret key in {origin} is not a valid Fernet key (32 url-safe base64 bytes)"
            raise UserError(message) from None
        self.origin = origin

    def __repr__(self) -> str:
        return f"TokenCipher(origin={self.origin!r})"

    @classmethod
    def for_home(cls, home: Home) -> TokenCipher:
        """The key from $BKNTC_SMS_SECRET_KEY, else from the home's key file (created 0600 on first use)."""
        from_env = os.environ.get(SECRET_KEY_ENV)
        if from_env:
            return cls(from_env.strip().encode("ascii", "replace"), f"${SECRET_KEY_ENV}")
        return cls(read_or_create_key_file(home.key_file), str(home.key_file))

    def encrypt(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode("utf-8"))

    def decrypt(self, blob: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(blob)).decode("utf-8")
        except InvalidToken:
            raise UserError(
                f"Cannot decrypt the stored auth token with the key from {self.origin}: the key has changed "
                "since the credentials were saved. Restore that key, or set the Twilio credentials again."
            ) from None


def read_or_create_key_file(path: Path) -> bytes:
    """The key in `path`; on first use a new key is written there with mode 0600, atomically.

    The key is written to a private temporary file and then hard-linked into place: a link never replaces an
    existing file, so when several processes start at once exactly one key wins and all of them read it.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            temporary.unlink(missing_ok=True)
    try:
        return path.read_bytes().strip()
    except OSError as exc:
        raise UserError(f"Cannot read the secret key file {path}: {exc.strerror}") from None
