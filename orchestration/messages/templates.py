"""Message templates kept per tenant in the ledger; a template is saved only when its shortcodes are valid."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from orchestration.errors import UserError
from orchestration.ledger.store import Ledger
from orchestration.messages.shortcodes import check_template
from orchestration.sqlfiles import load_sql
from orchestration.tenants.settings import check_tenant_id, ensure_tenant_row

MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class Template:
    """A named message body of one tenant."""

    template_id: int
    tenant_id: int
    name: str
    body: str
    created_at: str
    updated_at: str


def _name(name: str) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise UserError("A template needs a name")
    if len(cleaned) > MAX_NAME_CHARS:
        raise UserError(f"Template names have at most {MAX_NAME_CHARS} characters")
    return cleaned


def _template(row: sqlite3.Row) -> Template:
    return Template(**dict(row))


def save(ledger: Ledger, tenant_id: int, name: str, body: str) -> Template:
    """Create the template, or replace the body of the tenant's template with that name."""
    check_tenant_id(tenant_id)
    name = _name(name)
    check_template(body)
    with ledger.write() as con:
        ensure_tenant_row(con, tenant_id)
        con.execute(
            load_sql("ledger/queries/template_upsert.sql"), {"tenant_id": tenant_id, "name": name, "body": body}
        )
        row = con.execute(
            load_sql("ledger/queries/template_get.sql"), {"tenant_id": tenant_id, "name": name}
        ).fetchone()
    return _template(row)


def get(ledger: Ledger, tenant_id: int, name: str) -> Template:
    """The tenant's template with that name, or a UserError."""
    check_tenant_id(tenant_id)
    with ledger.read() as con:
        row = con.execute(
            load_sql("ledger/queries/template_get.sql"), {"tenant_id": tenant_id, "name": _name(name)}
        ).fetchone()
    if row is None:
        raise UserError(f"Tenant {tenant_id} has no template named {name!r}")
    return _template(row)


def list_templates(ledger: Ledger, tenant_id: int) -> list[Template]:
    """The tenant's templates, by name."""
    check_tenant_id(tenant_id)
    with ledger.read() as con:
        rows = con.execute(load_sql("ledger/queries/template_list.sql"), {"tenant_id": tenant_id}).fetchall()
    return [_template(row) for row in rows]


def delete(ledger: Ledger, tenant_id: int, name: str) -> bool:
    """Remove the tenant's template with that name; False when there was none."""
    check_tenant_id(tenant_id)
    with ledger.write() as con:
        cursor = con.execute(
            load_sql("ledger/queries/template_delete.sql"), {"tenant_id": tenant_id, "name": _name(name)}
        )
    return cursor.rowcount > 0
