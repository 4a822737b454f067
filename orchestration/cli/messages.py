"""CLI commands: tenants (settings, Twilio credentials), message templates and the suppression list."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import click

from orchestration.cli import home_of, main
from orchestration.config import TWILIO_API_URL_ENV, Home
from orchestration.delivery.rules import DeliveryRules, get_rules, planned_rules, update_rules
from orchestration.delivery.settings import set_callback_url, stored_callback_url
from orchestration.errors import UserError
from orchestration.ledger.store import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.messages import templates
from orchestration.messages.pricing import PRICES_DATE, set_tenant_price, tenant_price
from orchestration.messages.segments import count_segments
from orchestration.messages.shortcodes import render
from orchestration.sender.pacing import sender_throughput_setting, set_sender_throughput
from orchestration.tenants.credentials import TwilioCredentials, load_twilio, save_twilio, twilio_summary
from orchestration.tenants.secret_key import TokenCipher
from orchestration.tenants.settings import TenantSettings, effective_send_rules, get_settings, update_settings
from orchestration.tenants.twilio_client import REAL_TWILIO, check_credentials

tenant_option = click.option(
    "--tenant", "tenant_id", type=click.IntRange(min=0), default=0, show_default=True,
    help="Tenant id (0 = a single Booknetic site).",
)

SAMPLE_RECIPIENT = {
    "customer_id": 1,
    "first_name": "Ann",
    "last_name": "Lee",
    "full_name": "Ann Lee",
    "phone_e164": "+15551234567",
    "email": "ann@example.com",
    "anchor_appointment_id": 1042,
    "anchor_starts_at": 1767261600,  # 2026-01-01 10:00 UTC
    "anchor_ends_at": 1767265200,
    "anchor_status": "approved",
    "service_name": "Haircut",
    "service_price": 35.0,
    "service_duration": 60,
    "staff_name": "Sam Park",
    "staff_phone": "+15557654321",
    "location_name": "Downtown",
    "location_address": "1 Main St",
}
SAMPLE_COMPANY = {"name": "Example Salon", "phone": "+15550001111", "address": "1 Main St", "website": "example.com"}


def _ledger(ctx: click.Context) -> tuple[Home, Ledger]:
    home = home_of(ctx)
    return home, Ledger(home.ledger)


# --- tenant -------------------------------------------------------------------------------------------


@main.group()
def tenant() -> None:
    """A tenant's sending settings and Twilio credentials."""


@tenant.command("set-twilio")
@tenant_option
@click.option("--account-sid", required=True, help="Twilio Account SID (AC + 32 hex digits).")
@click.option(
    "--auth-token", prompt="Twilio auth token", hide_input=True,
    help="Twilio auth token; leave it out to be asked for it without echo.",
)
@click.option("--from", "from_number", default=None, help="Sender number in E.164 (+15551234567).")
@click.option("--messaging-service-sid", default=None, help="Messaging Service SID (MG + 32 hex digits).")
@click.option(
    "--api-base-url", default=None,
    help=f"Twilio API base URL for this tenant (default: ${TWILIO_API_URL_ENV}, else {REAL_TWILIO}).",
)
@click.option(
    "--sender-rate", type=float, default=None,
    help="The sender's throughput in SMS segments/s, shared by all its campaigns (0: no limit; default: the "
         "sender type's, e.g. 1 for a US long code, 3 toll-free, 100 short code, 10 Messaging Service).",
)
@click.option(
    "--status-callback-url", default=None,
    help="Public URL of `bkntc-sms callbacks serve` that Twilio posts status changes to ('' clears it; "
         "without one, delivery is polled).",
)
@click.pass_context
def set_twilio(
    ctx: click.Context,
    tenant_id: int,
    account_sid: str,
    auth_token: str,
    from_number: str | None,
    messaging_service_sid: str | None,
    api_base_url: str | None,
    sender_rate: float | None,
    status_callback_url: str | None,
) -> None:
    """Store the tenant's Twilio credentials (the auth token is encrypted) and its sender's throughput."""
    home, ledger = _ledger(ctx)
    credentials = TwilioCredentials(
        account_sid=account_sid.strip(),
        auth_token=auth_token.strip(),
        from_number=from_number.strip() if from_number else None,
        messaging_service_sid=messaging_service_sid.strip() if messaging_service_sid else None,
        api_base_url=api_base_url.strip().rstrip("/") if api_base_url else None,
    )
    if sender_rate is not None and not (sender_rate >= 0 and math.isfinite(sender_rate)):
        raise UserError(f"--sender-rate must be 0 (no limit) or more, got {sender_rate:g}.")
    save_twilio(ledger, tenant_id, credentials, TokenCipher.for_home(home))
    if status_callback_url is not None:
        set_callback_url(ledger, tenant_id, status_callback_url)
    sender = credentials.messaging_service_sid or credentials.from_number
    with ledger.write() as con:
        set_sender_throughput(con, tenant_id, sender, sender_rate)
        _, rate = sender_throughput_setting(con, tenant_id, sender)
    click.echo(f"Twilio credentials saved for tenant {tenant_id} (account {credentials.account_sid}); "
               f"sender {sender} sends {'without a limit' if rate == 0 else f'{rate:g} segments/s'}.")


@tenant.command("show")
@tenant_option
@click.pass_context
def show(ctx: click.Context, tenant_id: int) -> None:
    """Show the tenant's settings and credentials (the auth token is only ever 'set' or 'not set')."""
    _, ledger = _ledger(ctx)
    settings = get_settings(ledger, tenant_id)
    summary = twilio_summary(ledger, tenant_id)
    lines = [
        f"Tenant {tenant_id}" + (f" ({settings.name})" if settings.name else ""),
        f"  phone region:          {settings.default_region}",
        f"  rate limit:            {settings.rate_limit_per_s:g} messages/s",
        f"  max attempts:          {settings.max_attempts}",
        f"  retry base:            {settings.retry_base_seconds:g} s",
        f"  pause after failures:  {settings.failure_streak_pause} in a row",
        f"  cost estimates:        {_price_text(tenant_price(ledger, tenant_id))}",
        f"  {_rules_line(get_rules(ledger, tenant_id))}",
        f"  time zone:             {settings.timezone or 'not set'}",
        f"  {_send_rules_line(settings)}",
        "Twilio",
    ]
    if summary is None:
        lines += ["  auth token:            not set", "  (run `bkntc-sms tenant set-twilio` to add credentials)"]
    else:
        lines += [
            f"  account SID:           {summary.account_sid}",
            "  auth token:            set",
            f"  from number:           {summary.from_number or '-'}",
            f"  messaging service:     {summary.messaging_service_sid or '-'}",
            f"  API base URL:          {summary.api_base_url or _default_api_url()}",
            f"  status callback URL:   {stored_callback_url(ledger, tenant_id) or '- (delivery is polled)'}",
            f"  updated:               {summary.updated_at}",
        ]
    click.echo("\n".join(lines))


def _send_rules_line(settings: TenantSettings) -> str:
    quiet_hours, state_rules = effective_send_rules(settings)
    window = "at any hour" if quiet_hours == "off" else f"{quiet_hours} in the recipient's local time"
    default = " (default)" if settings.quiet_hours is None else ""
    return (f"quiet hours: send {window}{default}; Florida/Oklahoma rules {'on' if state_rules else 'off'}; "
            f"frequency cap {settings.frequency_cap}")


def _default_api_url() -> str:
    from_env = os.environ.get(TWILIO_API_URL_ENV)
    return f"{from_env} (from ${TWILIO_API_URL_ENV})" if from_env else f"{REAL_TWILIO} (default)"


@tenant.command("settings")
@tenant_option
@click.option("--name", default=None, help="Display name of the tenant.")
@click.option("--region", default=None, help="Phone region for numbers without a country code (e.g. US, GB).")
@click.option("--rate", type=float, default=None, help="Messages per second.")
@click.option("--max-attempts", type=int, default=None, help="Attempts per recipient before it fails.")
@click.option("--retry-base-seconds", type=float, default=None, help="First retry delay; doubles each time.")
@click.option("--failure-streak", type=int, default=None, help="Failures in a row that pause a campaign.")
@click.option("--price-per-segment", default=None, metavar="USD|list",
              help="The tenant's own price per SMS segment in USD, for cost estimates ('list': Twilio's list "
                   "prices by country, the default).")
@click.option("--delivery-retries", type=int, default=None,
              help="Re-sends of a message undelivered with 30003/30008, per recipient (0: off, the default).")
@click.option("--delivery-retry-delay", type=float, default=None,
              help="Seconds after the undelivered report before a re-send (default 900).")
@click.option("--filtered-pause-share", type=float, default=None,
              help="Share of a campaign's final outcomes filtered by carriers (30007) that pauses it (default 0.05).")
@click.option("--filtered-pause-min", type=int, default=None,
              help="Final outcomes needed before the 30007 share can pause a campaign (default 20).")
@click.option("--timezone", default=None, help="The business's IANA time zone (America/New_York): how a --send-at "
              "without an offset is read, and the zone of a recipient whose own zone is not known.")
@click.option("--quiet-hours", default=None, metavar="HH:MM-HH:MM|off",
              help="Send only in this window of the recipient's local time (default 08:00-21:00, the US TCPA "
                   "window); off: any hour (Florida/Oklahoma numbers still get 08:00-20:00 while state rules are on).")
@click.option("--state-rules", type=click.Choice(["on", "off"]), default=None,
              help="Florida and Oklahoma numbers: 08:00-20:00 and at most 3 messages in 24 h (default on).")
@click.option("--frequency-cap", default=None, metavar="N/PERIOD|off",
              help="At most N messages per number per period across all campaigns, e.g. 3/7d or 2/24h (default off).")
@click.pass_context
def settings_command(
    ctx: click.Context,
    tenant_id: int,
    name: str | None,
    region: str | None,
    rate: float | None,
    max_attempts: int | None,
    retry_base_seconds: float | None,
    failure_streak: int | None,
    price_per_segment: str | None,
    delivery_retries: int | None,
    delivery_retry_delay: float | None,
    filtered_pause_share: float | None,
    filtered_pause_min: int | None,
    timezone: str | None,
    quiet_hours: str | None,
    state_rules: str | None,
    frequency_cap: str | None,
) -> None:
    """Change the tenant's sending settings and rules on delivery errors (only the options given)."""
    _, ledger = _ledger(ctx)
    price = _price_option(price_per_segment)
    rule_changes = {"resend_max": delivery_retries, "resend_delay_s": delivery_retry_delay,
                    "filtered_pause_share": filtered_pause_share, "filtered_pause_min_final": filtered_pause_min}
    planned_rules(ledger, tenant_id, **rule_changes)  # a bad value is refused before anything is written
    settings = update_settings(
        ledger,
        tenant_id,
        name=name,
        default_region=region,
        rate_limit_per_s=rate,
        max_attempts=max_attempts,
        retry_base_seconds=retry_base_seconds,
        failure_streak_pause=failure_streak,
        timezone=timezone,
        quiet_hours=quiet_hours,
        state_rules=state_rules,
        frequency_cap=frequency_cap,
    )
    rules = update_rules(ledger, tenant_id, **rule_changes)
    click.echo(
        f"Tenant {tenant_id}: region {settings.default_region}, {settings.rate_limit_per_s:g} messages/s, "
        f"{settings.max_attempts} attempts, retry base {settings.retry_base_seconds:g} s, "
        f"pause after {settings.failure_streak_pause} failures in a row; time zone {settings.timezone or 'not set'}."
    )
    click.echo(f"  {_send_rules_line(settings)}")
    if price_per_segment is not None:
        set_tenant_price(ledger, tenant_id, price)
    click.echo(f"  cost estimates: {_price_text(tenant_price(ledger, tenant_id))}")
    click.echo(_rules_line(rules))


def _price_option(value: str | None) -> float | None:
    """--price-per-segment as a number (None for 'list' or when not given); a UserError when not a price."""
    if value is None or value.strip().lower() == "list":
        return None
    try:
        return float(value)
    except ValueError:
        raise UserError(f"--price-per-segment takes a price in USD (e.g. 0.0079) or 'list', not {value!r}.") from None


def _price_text(price: float | None) -> str:
    return (f"{price:g} USD per SMS segment (the tenant's own price)" if price is not None
            else f"Twilio's list prices by country ({PRICES_DATE})")


def _rules_line(rules: DeliveryRules) -> str:
    resends = (f"re-send after 30003/30008 up to {rules.resend_max} time(s), {rules.resend_delay_s:g} s after the "
               "report" if rules.resend_max else "no re-sends after 30003/30008")
    return (f"Delivery errors: {resends}; pause on carrier filtering (30007) at {rules.filtered_pause_share:.1%} "
            f"of at least {rules.filtered_pause_min_final} final outcomes; 30034 pauses; 30005/30006 undeliverable.")


@tenant.command("check")
@tenant_option
@click.pass_context
def check(ctx: click.Context, tenant_id: int) -> None:
    """Ask Twilio whether the tenant's credentials work (exit 1 when they do not)."""
    home, ledger = _ledger(ctx)
    result = check_credentials(load_twilio(ledger, tenant_id, TokenCipher.for_home(home)))
    click.echo(result.message)
    if not result.works:
        sys.exit(1)


# --- template -----------------------------------------------------------------------------------------


@main.group()
def template() -> None:
    """Message templates with Booknetic shortcodes such as {customer_first_name}."""


def _body(body: str | None, file: Path | None) -> str:
    if (body is None) == (file is None):
        raise UserError("Give the message with --body TEXT or --file PATH (one of them)")
    return body if body is not None else file.read_text(encoding="utf-8-sig")


@template.command("save")
@tenant_option
@click.argument("name")
@click.option("--body", default=None, help="The message text.")
@click.option("--file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Read the message text from a UTF-8 file.")
@click.pass_context
def template_save(ctx: click.Context, tenant_id: int, name: str, body: str | None, file: Path | None) -> None:
    """Save (or replace) a template after checking its shortcodes."""
    _, ledger = _ledger(ctx)
    saved = templates.save(ledger, tenant_id, name, _body(body, file))
    cost = count_segments(saved.body)
    click.echo(f"Template {saved.name!r} saved ({cost.characters} characters, {cost.encoding} before personalization).")


@template.command("list")
@tenant_option
@click.pass_context
def template_list(ctx: click.Context, tenant_id: int) -> None:
    """List the tenant's templates."""
    _, ledger = _ledger(ctx)
    found = templates.list_templates(ledger, tenant_id)
    if not found:
        click.echo(f"Tenant {tenant_id} has no templates.")
    for saved in found:
        first_line = saved.body.splitlines()[0] if saved.body else ""
        click.echo(f"{saved.name}\t{saved.updated_at}\t{first_line[:60]}")


@template.command("render")
@tenant_option
@click.argument("name", required=False)
@click.option("--body", default=None, help="Render this text instead of a saved template.")
@click.pass_context
def template_render(ctx: click.Context, tenant_id: int, name: str | None, body: str | None) -> None:
    """Render a template for a sample recipient, with its encoding and segment count."""
    _, ledger = _ledger(ctx)
    if (name is None) == (body is None):
        raise UserError("Give a template NAME or --body TEXT (one of them)")
    text = body if body is not None else templates.get(ledger, tenant_id, name).body
    rendered = render(text, SAMPLE_RECIPIENT, SAMPLE_COMPANY)
    cost = count_segments(rendered)
    click.echo(rendered)
    click.echo(f"-- {cost.characters} characters, {cost.encoding}, {cost.segments} segment(s) for this sample")


# --- suppression --------------------------------------------------------------------------------------


@main.group()
def suppression() -> None:
    """The suppression list: numbers that never get a message."""


@suppression.command("add")
@tenant_option
@click.argument("number")
@click.option("--reason", default="", help="Why the number is suppressed.")
@click.pass_context
def suppression_add(ctx: click.Context, tenant_id: int, number: str, reason: str) -> None:
    """Suppress one number."""
    _, ledger = _ledger(ctx)
    suppressed = SuppressionList(ledger, tenant_id)
    e164 = suppressed.normalize(number)
    added = suppressed.add(e164, reason=reason)
    click.echo(f"{e164} {'suppressed' if added else 'was already suppressed'}.")


@suppression.command("remove")
@tenant_option
@click.argument("number")
@click.pass_context
def suppression_remove(ctx: click.Context, tenant_id: int, number: str) -> None:
    """Lift the suppression of one number."""
    _, ledger = _ledger(ctx)
    suppressed = SuppressionList(ledger, tenant_id)
    e164 = suppressed.normalize(number)
    removed = suppressed.remove(e164)
    click.echo(f"{e164} {'removed from the suppression list' if removed else 'was not suppressed'}.")


@suppression.command("list")
@tenant_option
@click.option("--search", default="", help="Keep numbers or reasons containing this text.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.pass_context
def suppression_list(ctx: click.Context, tenant_id: int, search: str, limit: int) -> None:
    """List suppressed numbers."""
    _, ledger = _ledger(ctx)
    suppressed = SuppressionList(ledger, tenant_id)
    entries = suppressed.entries(search, limit=limit)
    for entry in entries:
        click.echo(f"{entry.phone_e164}\t{entry.source}\t{entry.added_at}\t{entry.reason}")
    click.echo(f"-- {len(entries)} shown, {suppressed.count()} suppressed in total")


@suppression.command("import")
@tenant_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default="", help="Reason for rows without a reason column.")
@click.pass_context
def suppression_import(ctx: click.Context, tenant_id: int, file: Path, reason: str) -> None:
    """Import numbers from a CSV file (header phone/phone_number/number/mobile, or one number per row)."""
    _, ledger = _ledger(ctx)
    report = SuppressionList(ledger, tenant_id).import_csv(file, reason=reason)
    click.echo(
        f"Added {report.added}, already suppressed {report.already_present}, "
        f"repeated in the file {report.duplicates_in_file}, invalid {len(report.invalid)}."
    )
    for line, value in report.invalid[:20]:
        click.echo(f"  line {line}: {value!r} is not a valid phone number")
    if len(report.invalid) > 20:
        click.echo(f"  ... and {len(report.invalid) - 20} more invalid rows")


@suppression.command("export")
@tenant_option
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the CSV here (default: standard output).")
@click.pass_context
def suppression_export(ctx: click.Context, tenant_id: int, output: Path | None) -> None:
    """Export the suppression list as CSV (cells are formula-escaped for spreadsheets)."""
    _, ledger = _ledger(ctx)
    text = SuppressionList(ledger, tenant_id).export_csv()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
