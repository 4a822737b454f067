"""The `bkntc-sms` command line: one group, with commands contributed by one module per concern."""

from __future__ import annotations

import sys

import click

from orchestration.auth.actor import acting_as, cli_actor
from orchestration.config import Home
from orchestration.errors import UserError
from orchestration.termination import answer_termination


class _Group(click.Group):
    """Turns a UserError anywhere below into one line on stderr and exit code 2 (never a traceback); every
    command acts (and is audited) as `cli:<os user>`."""

    def invoke(self, ctx: click.Context):
        try:
            with acting_as(cli_actor()):
                return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.option(
    "--home",
    envvar="BKNTC_SMS_HOME",
    default=None,
    help="State folder (warehouse, ledger, Dagster instance). Default: $BKNTC_SMS_HOME or ./.bkntc-sms",
)
@click.pass_context
def main(ctx: click.Context, home: str | None) -> None:
    """Booknetic SMS Campaigns: audiences from Booknetic data, sent through Twilio."""
    answer_termination()  # before any Dagster code: see orchestration/termination.py
    ctx.obj = Home.resolve(home)


def home_of(ctx: click.Context) -> Home:
    """The home folder chosen on the command line, created on first use."""
    return ctx.find_root().obj.ensure()


def _register() -> None:
    from orchestration.cli import (  # noqa: F401
        audiences,
        audit,
        campaigns,
        catalog,
        credits,
        data,
        delivery,
        messages,
        recurring,
        services,
        simulator,
        sync,
        users,
    )


_register()
