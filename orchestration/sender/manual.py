"""Sends without a segment: a test message to one typed number, and manual sends to a typed list or a CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import phonenumbers

from orchestration.audiences import AudienceQuery, preview
from orchestration.auth import audit
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender.campaigns import (
    Campaign,
    CampaignSettings,
    company_details,
    create_campaign,
    launch_numbers,
)
from orchestration.tenants import get_settings
from orchestration.warehouse import Warehouse

PHONE_HEADERS = ("phone", "phone_e164", "number", "mobile", "to")
NAME_HEADERS = ("name", "full_name")
MAX_MANUAL = 10_000


def normalize_phone(raw: str, region: str) -> str | None:
    """The number in E.164, or None when it is not a valid phone number."""
    try:
        parsed = phonenumbers.parse(str(raw).strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def people_frame(people: list[tuple[str, str]], region: str) -> pd.DataFrame:
    """Typed (number, name) pairs as recipient rows, numbers in E.164 and repeats dropped; one UserError listing
    the numbers that are not valid (nothing is written then)."""
    if not people:
        raise UserError("Give at least one phone number.")
    if len(people) > MAX_MANUAL:
        raise UserError(f"A manual send takes at most {MAX_MANUAL} numbers; use a segment campaign for more.")
    rows, bad = {}, []
    for raw, name in people:
        phone = normalize_phone(raw, region)
        if phone is None:
            bad.append(repr(raw))
        else:
            rows.setdefault(phone, (name or "").strip())
    if bad:
        raise UserError(f"Not a valid phone number (region {region}): {', '.join(bad[:10])}.")
    names = pd.Series([name for name in rows.values()], dtype="str")
    split = names.str.split(" ", n=1, expand=True).reindex(columns=[0, 1]).astype(object).fillna("")
    return pd.DataFrame(
        {
            "customer_id": pd.Series([None] * len(rows), dtype="Int64"),
            "phone_e164": list(rows),
            "full_name": names,
            "first_name": split[0],
            "last_name": split[1],
        }
    )


def read_people_csv(path: str | Path) -> list[tuple[str, str]]:
    """(number, name) pairs from a CSV file with a header: a phone column and, optionally, a name column
    (first_name/last_name also work)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            headers = {h.strip().lower(): h for h in reader.fieldnames or []}
            phone_col = next((headers[h] for h in PHONE_HEADERS if h in headers), None)
            if phone_col is None:
                raise UserError(f"{path}: no phone column (one of {', '.join(PHONE_HEADERS)}) in the header.")
            name_col = next((headers[h] for h in NAME_HEADERS if h in headers), None)
            first, last = headers.get("first_name"), headers.get("last_name")
            people = []
            for row in reader:
                if name_col:
                    name = row.get(name_col) or ""
                else:
                    name = f"{row.get(first) or '' if first else ''} {row.get(last) or '' if last else ''}"
                if (row.get(phone_col) or "").strip():
                    people.append((row[phone_col], name.strip()))
            return people
    except FileNotFoundError:
        raise UserError(f"No such file: {path}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path} is not a readable CSV file: {exc}") from None


def send_manual(
    ledger: Ledger,
    tenant_id: int,
    people: list[tuple[str, str]],
    template: str,
    name: str = "Manual send",
    settings: CampaignSettings | None = None,
    warehouse: Warehouse | None = None,
) -> Campaign:
    """A queued 'manual' campaign to typed numbers (with or without names); the same ledger, suppression check
    and logs as any campaign."""
    audit.authorize(ledger, tenant_id, "send.manual")
    frame = people_frame(people, get_settings(ledger, tenant_id).default_region)
    campaign = create_campaign(ledger, tenant_id, name, template, settings=settings, kind="manual")
    company = company_details(warehouse, tenant_id) if warehouse is not None and warehouse.exists else {}
    return launch_numbers(ledger, tenant_id, campaign.campaign_id, frame, company)


def send_test(
    ledger: Ledger,
    warehouse: Warehouse | None,
    tenant_id: int,
    to: str,
    template: str,
    query: AudienceQuery | None = None,
) -> Campaign:
    """A queued 'test' campaign: one message to `to`, rendered with the first recipient of `query`
    (default: all customers) when the warehouse has one, so shortcodes show real values."""
    region = get_settings(ledger, tenant_id).default_region
    frame = people_frame([(to, "")], region)
    company: dict = {}
    if warehouse is not None and warehouse.exists:
        chosen = query or AudienceQuery(tenant_id, "all_customers")
        sample = preview(warehouse, ledger, chosen, sample=1).sample
        if len(sample):
            frame = sample.head(1).reset_index(drop=True).assign(phone_e164=frame["phone_e164"], customer_id=None)
        company = company_details(warehouse, tenant_id)
    settings = CampaignSettings(max_attempts=1)
    name = f"Test to {frame['phone_e164'][0]}"
    campaign = create_campaign(ledger, tenant_id, name, template, settings=settings, kind="test")
    return launch_numbers(ledger, tenant_id, campaign.campaign_id, frame, company)

