"""CLI for console users: `bkntc-sms user add|list|disable|enable|reset-password|analysts-may-launch`."""

from __future__ import annotations

import sys

import click

from orchestration.auth import users
from orchestration.auth.permissions import ROLES
from orchestration.cli import home_of, main
from orchestration.errors import UserError
from orchestration.ledger import Ledger


def _ledger(ctx: click.Context) -> Ledger:
    return Ledger(home_of(ctx).ledger)


def _password_from_stdin() -> str:
    """The password from standard input (its one line, without the line break); never from an argument, which
    would land in the shell's history and in `ps`."""
    raw = sys.stdin.read(100_000)
    return raw[:-1] if raw.endswith("\n") else raw


@main.group("user")
def user_group() -> None:
    """Console users: an operator sees every tenant, an admin or analyst one."""


@user_group.command("add")
@click.option("--email", required=True)
@click.option("--role", required=True, help=f"One of: {', '.join(ROLES)}.")
@click.option("--tenant", "tenant_id", type=int, default=None, help="The admin's or analyst's tenant.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (required).")
@click.pass_context
def add_command(ctx: click.Context, email: str, role: str, tenant_id: int | None, password_stdin: bool) -> None:
    """Add a user; the password is read from stdin and stored only as an Argon2 hash."""
    if not password_stdin:
        raise UserError("Give the password on standard input with --password-stdin "
                        "(e.g. `printf %s \"$PW\" | bkntc-sms user add ... --password-stdin`).")
    user = users.add_user(_ledger(ctx), email, role, tenant_id, _password_from_stdin())
    where = "every tenant" if user.tenant_id is None else f"tenant {user.tenant_id}"
    click.echo(f"Added {user.email} ({user.role}, {where}).")


@user_group.command("list")
@click.option("--tenant", "tenant_id", type=int, default=None, help="Only the users of this tenant.")
@click.pass_context
def list_command(ctx: click.Context, tenant_id: int | None) -> None:
    """List users (no password hashes)."""
    found = users.list_users(_ledger(ctx), tenant_id)
    if not found:
        click.echo("No users yet: add one with `bkntc-sms user add`.")
    for user in found:
        state = "disabled" if user.disabled else "active"
        where = "all tenants" if user.tenant_id is None else f"tenant {user.tenant_id}"
        click.echo(f"{user.email}\t{user.role}\t{where}\t{state}")


@user_group.command("disable")
@click.option("--email", required=True)
@click.pass_context
def disable_command(ctx: click.Context, email: str) -> None:
    """Disable a user: signed out at the next action, no new sign-in."""
    click.echo(f"Disabled {users.set_disabled(_ledger(ctx), email, True).email}.")


@user_group.command("enable")
@click.option("--email", required=True)
@click.pass_context
def enable_command(ctx: click.Context, email: str) -> None:
    """Enable a disabled user again."""
    click.echo(f"Enabled {users.set_disabled(_ledger(ctx), email, False).email}.")


@user_group.command("reset-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input (required).")
@click.pass_context
def reset_password_command(ctx: click.Context, email: str, password_stdin: bool) -> None:
    """Set a new password (ends the user's sessions, lifts a sign-in lock)."""
    if not password_stdin:
        raise UserError("Give the new password on standard input with --password-stdin.")
    click.echo(f"New password set for {users.reset_password(_ledger(ctx), email, _password_from_stdin()).email}.")


@user_group.command("analysts-may-launch")
@click.option("--tenant", "tenant_id", type=int, required=True)
@click.argument("allowed", type=click.Choice(["yes", "no"]))
@click.pass_context
def analysts_may_launch_command(ctx: click.Context, tenant_id: int, allowed: str) -> None:
    """Whether the tenant's analysts may launch campaigns and manual sends (test sends they always may)."""
    users.set_analysts_may_launch(_ledger(ctx), tenant_id, allowed == "yes")
    click.echo(f"Analysts of tenant {tenant_id} {'may' if allowed == 'yes' else 'may not'} launch.")
