"""Remembers which Booknetic source the home folder syncs from (the file may hold a MySQL password: mode 0600)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from orchestration.config import Home
from orchestration.errors import UserError


def write_spec_file(path: Path, spec: str) -> None:
    """Writes a source spec to `path` atomically, readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(spec.strip() + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def save_source_spec(home: Home, spec: str) -> None:
    """Remembers the source spec in the home folder (mode 0600)."""
    write_spec_file(home.source_file, spec)


def read_spec_file(path: Path) -> str:
    """The spec held in `path`; a UserError when there is none."""
    if not path.is_file():
        raise UserError(f"No Booknetic source configured ({path} is missing): run `bkntc-sms sync --source DIR|URL`")
    spec = path.read_text(encoding="utf-8").strip()
    if not spec:
        raise UserError(f"{path} is empty: run `bkntc-sms sync --source DIR|URL` again")
    return spec


def load_source_spec(home: Home) -> str:
    """The remembered source spec; a UserError when no sync has named one yet."""
    return read_spec_file(home.source_file)


def has_password(spec: str) -> bool:
    """Whether a spec is a URL that carries a password (which must stay out of run configs and logs)."""
    return "://" in spec and bool(urlsplit(spec).password)
