"""CLI command: `bkntc-sms simulator`, the Twilio-compatible Messages API for demos, tests and benchmarks."""

from __future__ import annotations

import re

import click

from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.simulator import DEFAULT_SUFFIX_ERRORS, DEMO_FROM, Faults, Simulator

DEFAULT_PORT = 34100


def _pairs(values: tuple[str, ...], option: str, separator: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        left, found, right = value.partition(separator)
        if not found or not left or not right:
            raise UserError(f"{option} expects LEFT{separator}RIGHT, not {value!r}")
        pairs.append((left.strip(), right.strip()))
    return pairs


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port (0: any free port).")
@click.option("--account", "accounts", multiple=True, metavar="SID:TOKEN",
              help="An account the simulator accepts (repeatable). Default: one demo account.")
@click.option("--latency-ms", default=0.0, show_default=True, type=float, help="Added to every API request.")
@click.option("--jitter-ms", default=0.0, show_default=True, type=float, help="Latency varies by +/- this much.")
@click.option("--error-rate", "error_rates", multiple=True, metavar="CODE=FRACTION",
              help="Fraction of creates answered with this Twilio error code or HTTP 500/503 (repeatable).")
@click.option("--suffix-error", "suffix_errors", multiple=True, metavar="SUFFIX=CODE",
              help="Destinations ending in SUFFIX get CODE (repeatable; replaces the default table).")
@click.option("--no-suffix-errors", is_flag=True, help="No errors by destination suffix at all.")
@click.option("--rate-429", default=0.0, show_default=True, type=float, help="Fraction of creates answered 429.")
@click.option("--retry-after", default=1, show_default=True, type=int, help="Retry-After (s) of injected 429s.")
@click.option("--slow-rate", default=0.0, show_default=True, type=float,
              help="Fraction of creates accepted but answered only after --slow-seconds.")
@click.option("--slow-seconds", default=30.0, show_default=True, type=float)
@click.option("--rate-limit-per-sender", default=None, type=float,
              help="Messages/s per From or MessagingServiceSid; over it: 429 (20429) with Retry-After.")
@click.option("--record", type=click.Path(dir_okay=False), default=None,
              help="JSONL file of accepted messages, reloaded on start.")
@click.option("--seed", default=None, type=int, help="Seed of the fault-injection draws.")
def simulator(
    host: str,
    port: int,
    accounts: tuple[str, ...],
    latency_ms: float,
    jitter_ms: float,
    error_rates: tuple[str, ...],
    suffix_errors: tuple[str, ...],
    no_suffix_errors: bool,
    rate_429: float,
    retry_after: int,
    slow_rate: float,
    slow_seconds: float,
    rate_limit_per_sender: float | None,
    record: str | None,
    seed: int | None,
) -> None:
    """Run the Twilio-compatible simulator until Ctrl-C; prints its base URL and accounts."""
    try:
        suffixes = {s: int(c) for s, c in _pairs(suffix_errors, "--suffix-error", "=")} or DEFAULT_SUFFIX_ERRORS
        faults = Faults(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            error_rates={int(c): float(f) for c, f in _pairs(error_rates, "--error-rate", "=")},
            suffix_errors={} if no_suffix_errors else suffixes,
            rate_429=rate_429,
            retry_after_s=retry_after,
            slow_rate=slow_rate,
            slow_s=slow_seconds,
            rate_limit_per_sender=rate_limit_per_sender,
        )
    except ValueError as exc:
        raise UserError(f"Bad fault setting: {exc}") from None
    configured = dict(_pairs(accounts, "--account", ":"))
    for sid in configured:
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
            raise UserError(f"--account: the SID must be 'AC' followed by 32 hex digits, not {sid!r}")
    server = Simulator(host, port, configured or None, faults, record, seed)
    try:
        server.bind()
    except OSError as exc:
        raise UserError(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
    click.echo(f"Twilio simulator at {server.base_url}")
    click.echo(f"  export BKNTC_SMS_TWILIO_API_URL={server.base_url}")
    for sid, token in server.accounts.items():
        click.echo(f"  account {sid}  auth token {token}")
    click.echo(f"  any E.164 From works (e.g. {DEMO_FROM}); errors by To suffix: "
               + (", ".join(f"*{s}={c}" for s, c in faults.suffix_errors.items()) or "none"))
    click.echo("Ctrl-C to stop.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
