"""CLI commands: data (generate synthetic Booknetic data, check a Booknetic source)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.source import open_source
from orchestration.source.synthetic import as_of_default, generate, load_mysql, write_snapshot


def _as_of(value: str | None) -> datetime:
    if value is None:
        return as_of_default()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"--as-of {value!r} is not an ISO-8601 date/time (e.g. 2025-06-01T12:00:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@main.command("demo-data")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Snapshot folder to write.")
@click.option("--customers", default=2000, show_default=True, type=int)
@click.option("--tenants", default=2, show_default=True, type=int, help="0 = a single site (no tenants table).")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--as-of", "as_of", default=None, help="ISO-8601 instant the data is relative to [default: now, UTC].")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--prefix", default="wp_", show_default=True, help="WordPress table prefix of the snapshot files.")
@click.option("--mysql", "mysql_url", default=None, help="Also load into this database (mysql://user:pass@host/db).")
def demo_data(out_dir: str | None, customers: int, tenants: int, seed: int, as_of: str | None, fmt: str,
              prefix: str, mysql_url: str | None) -> None:
    """Generate synthetic Booknetic data (with real-world mess) into a snapshot folder and/or a database."""
    if not out_dir and not mysql_url:
        raise UserError("say where the data goes: --out DIR and/or --mysql URL")
    tables = generate(customers, tenants, seed, _as_of(as_of))
    if out_dir:
        write_snapshot(tables, out_dir, fmt=fmt, prefix=prefix)
        click.echo(f"Wrote {fmt} snapshot to {out_dir}")
    if mysql_url:
        load_mysql(tables, mysql_url)
        click.echo(f"Loaded into {open_source(mysql_url).description}")
    for name, table in tables.items():
        click.echo(f"  {name:<20} {table.num_rows:>10,} rows")


@main.command("check-source")
@click.argument("spec")
def check_source(spec: str) -> None:
    """Open a Booknetic source (folder or mysql:// URL) and count the rows of each table."""
    with open_source(spec) as source:
        click.echo(f"{source.description} (prefix {source.prefix})")
        for name in source.tables():
            rows = sum(batch.num_rows for batch in source.read(name))
            click.echo(f"  {name:<20} {rows:>10,} rows")
