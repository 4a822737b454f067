"""CLI commands: `bkntc-sms simulator`, the Twilio-compatible Messages API for demos, tests and benchmarks, and
`bkntc-sms simulator-reply`, a handset's reply (e.g. STOP) sent to a running simulator."""

from __future__ import annotations

import json
import re

import click
import requests

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
@click.option("--mode", type=click.Choice(["fast", "realistic"]), default="fast", show_default=True,
              help="fast: queues drain at once; realistic: per-sender throughput, list lag 1 s, delivery 2 s.")
@click.option("--throughput", "throughputs", multiple=True, metavar="SENDER=RATE",
              help="Segments/s of one sender (From number or MG SID) in realistic mode (repeatable).")
@click.option("--list-lag", default=None, type=float, help="Seconds before a new message shows in the list.")
@click.option("--delivery-delay", default=None, type=float, help="Seconds from sent to delivered/undelivered.")
@click.option("--queue-limit-seconds", default=36_000.0, show_default=True, type=float,
              help="A sender's queue beyond this many seconds of its throughput: 21611.")
@click.option("--service-number", "service_numbers", multiple=True, metavar="MG...=+1...",
              help="A number of a Messaging Service's pool (repeatable).")
@click.option("--latency-ms", default=0.0, show_default=True, type=float, help="Added to every API request.")
@click.option("--jitter-ms", default=0.0, show_default=True, type=float, help="Latency varies by +/- this much.")
@click.option("--error-rate", "error_rates", multiple=True, metavar="CODE=FRACTION",
              help="Fraction of creates answered with this Twilio error code or HTTP 500/502/503 (repeatable); "
                   "a 30xxx code fails the created message later instead.")
@click.option("--error-after-create", "errors_after_create", multiple=True, metavar="CODE=FRACTION",
              help="Fraction of creates that create the message but answer HTTP 500/502/503 (repeatable).")
@click.option("--drop-after-create", default=0.0, show_default=True, type=float,
              help="Fraction of creates that create the message, then close the connection without an answer.")
@click.option("--suffix-error", "suffix_errors", multiple=True, metavar="SUFFIX=CODE",
              help="Destinations ending in SUFFIX get CODE (repeatable; replaces the default table).")
@click.option("--no-suffix-errors", is_flag=True, help="No errors by destination suffix at all.")
@click.option("--rate-429", default=0.0, show_default=True, type=float, help="Fraction of creates answered 429.")
@click.option("--retry-after", default=1, show_default=True, type=int, help="Retry-After (s) of injected 429s.")
@click.option("--retry-after-form", type=click.Choice(["seconds", "http-date", "none"]), default="seconds",
              show_default=True, help="How a 429 states Retry-After.")
@click.option("--list-error-rate", default=0.0, show_default=True, type=float,
              help="Fraction of list and fetch requests answered 500 or 429.")
@click.option("--slow-rate", default=0.0, show_default=True, type=float,
              help="Fraction of creates accepted but answered only after --slow-seconds.")
@click.option("--slow-seconds", default=30.0, show_default=True, type=float)
@click.option("--rate-limit-per-sender", default=None, type=float,
              help="Messages/s per From or MessagingServiceSid; over it: 429 (20429) with Retry-After.")
@click.option("--callback-duplicate-rate", default=0.0, show_default=True, type=float,
              help="Fraction of status callbacks posted twice.")
@click.option("--callback-reorder-rate", default=0.0, show_default=True, type=float,
              help="Fraction of messages whose final status callback arrives before the previous one.")
@click.option("--callback-retries", default=3, show_default=True, type=int,
              help="Retries of a webhook the receiver failed (non-2xx or connection error).")
@click.option("--incoming-url", "incoming_urls", multiple=True, metavar="SENDER=URL",
              help="Incoming-message webhook of a sender number or MG SID (repeatable).")
@click.option("--record", type=click.Path(dir_okay=False), default=None,
              help="JSONL file of created messages, reloaded on start.")
@click.option("--seed", default=None, type=int, help="Seed of the fault-injection draws.")
def simulator(
    host: str,
    port: int,
    accounts: tuple[str, ...],
    mode: str,
    throughputs: tuple[str, ...],
    list_lag: float | None,
    delivery_delay: float | None,
    queue_limit_seconds: float,
    service_numbers: tuple[str, ...],
    latency_ms: float,
    jitter_ms: float,
    error_rates: tuple[str, ...],
    errors_after_create: tuple[str, ...],
    drop_after_create: float,
    suffix_errors: tuple[str, ...],
    no_suffix_errors: bool,
    rate_429: float,
    retry_after: int,
    retry_after_form: str,
    list_error_rate: float,
    slow_rate: float,
    slow_seconds: float,
    rate_limit_per_sender: float | None,
    callback_duplicate_rate: float,
    callback_reorder_rate: float,
    callback_retries: int,
    incoming_urls: tuple[str, ...],
    record: str | None,
    seed: int | None,
) -> None:
    """Run the Twilio-compatible simulator until Ctrl-C; prints its base URL and accounts."""
    try:
        suffixes = {s: int(c) for s, c in _pairs(suffix_errors, "--suffix-error", "=")} or DEFAULT_SUFFIX_ERRORS
        pools: dict[str, list[str]] = {}
        for service, number in _pairs(service_numbers, "--service-number", "="):
            pools.setdefault(service, []).append(number)
        settings = dict(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            error_rates={int(c): float(f) for c, f in _pairs(error_rates, "--error-rate", "=")},
            error_after_create_rates={int(c): float(f) for c, f in _pairs(errors_after_create,
                                                                          "--error-after-create", "=")},
            drop_after_create_rate=drop_after_create,
            suffix_errors={} if no_suffix_errors else suffixes,
            rate_429=rate_429,
            retry_after_s=retry_after,
            retry_after_form=retry_after_form,
            list_error_rate=list_error_rate,
            slow_rate=slow_rate,
            slow_s=slow_seconds,
            rate_limit_per_sender=rate_limit_per_sender,
            sender_throughput={s: float(r) for s, r in _pairs(throughputs, "--throughput", "=")},
            queue_limit_s=queue_limit_seconds,
            service_numbers=pools,
            callback_duplicate_rate=callback_duplicate_rate,
            callback_reorder_rate=callback_reorder_rate,
            callback_retries=callback_retries,
            incoming_urls=dict(_pairs(incoming_urls, "--incoming-url", "=")),
        )
        if list_lag is not None:
            settings["list_lag_s"] = list_lag
        if delivery_delay is not None:
            settings["delivery_delay_s"] = delivery_delay
        faults = Faults.realistic(**settings) if mode == "realistic" else Faults(**settings)
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
    click.echo(f"  mode {faults.mode}: list lag {faults.effective_list_lag_s:g} s, "
               f"delivery delay {faults.effective_delivery_delay_s:g} s", err=True)
    click.echo("Ctrl-C to stop.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)


@main.command("simulator-reply")
@click.option("--url", required=True, help="The running simulator's base URL, e.g. http://127.0.0.1:34100.")
@click.option("--from", "from_", required=True, help="The handset replying (E.164).")
@click.option("--to", required=True, help="The sender number it replies to.")
@click.option("--body", required=True, help="The reply, e.g. STOP or START.")
@click.option("--account-sid", default=None, help="The account owning the sender (default: the simulator's first).")
def simulator_reply(url: str, from_: str, to: str, body: str, account_sid: str | None) -> None:
    """Send a handset's reply to a running simulator (opt-out keywords apply, webhooks are posted)."""
    payload = {"from": from_, "to": to, "body": body}
    if account_sid:
        payload["account_sid"] = account_sid
    try:
        answer = requests.post(f"{url.rstrip('/')}/_sim/inbound", data=json.dumps(payload), timeout=10)
    except requests.RequestException as exc:
        raise UserError(f"Cannot reach the simulator at {url}: {exc}") from None
    if answer.status_code != 200:
        raise UserError(f"The simulator refused the reply: {answer.text}")
    result = answer.json()
    kind = result.get("opt_out_type")
    click.echo(f"{result['message']['sid']} received" + (f" ({kind})" if kind else ""))
