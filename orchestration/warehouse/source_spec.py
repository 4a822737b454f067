"""Remembers which Booknetic source the home folder syncs from (the file may hold a MySQL password: mode 0600)."""

from __future__ import annotations

import os

from orchestration.config import Home
from orchestration.errors import UserError


def save_source_spec(home: Home, spec: str) -> None:
    """Writes the source spec atomically, readable by its owner only."""
    tmp = home.source_file.with_name(home.source_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(spec.strip() + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, home.source_file)


def load_source_spec(home: Home) -> str:
    """The remembered source spec; a UserError when no sync has named one yet."""
    if not home.source_file.is_file():
        raise UserError(f"No Booknetic source configured in {home.root}: run `bkntc-sms sync --source DIR|URL` first")
    spec = home.source_file.read_text(encoding="utf-8").strip()
    if not spec:
        raise UserError(f"{home.source_file} is empty: run `bkntc-sms sync --source DIR|URL` again")
    return spec
