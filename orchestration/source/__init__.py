"""The Booknetic source: one interface over a snapshot folder and a live MySQL/MariaDB database."""

from __future__ import annotations

from pathlib import Path

from orchestration.errors import UserError
from orchestration.source.base import BookneticSource


def open_source(spec: str) -> BookneticSource:
    """A folder path, or `mysql://user:pass@host:port/db?prefix=wp_` (`mariadb://` too)."""
    spec = str(spec).strip()
    if not spec:
        raise UserError("no Booknetic source given: pass a snapshot folder or a mysql:// URL")
    if spec.split("://", 1)[0].lower() in ("mysql", "mariadb") and "://" in spec:
        from orchestration.source.mysql import MySQLSource

        return MySQLSource(spec)
    if "://" in spec:
        raise UserError(f"unsupported source {spec.split('://', 1)[0]}://...: use a folder or a mysql:// URL")
    from orchestration.source.folder import SnapshotFolder

    return SnapshotFolder(Path(spec))


__all__ = ["BookneticSource", "open_source"]
