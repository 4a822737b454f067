"""Nobody twice for the same appointment: the anchor keys an occurrence's audience is frozen with, per definition.

A recipient's key is its anchor appointment (`appointment:<id>`, segments such as upcoming) or, for a segment
without one (lapsed, repeat, first_time, all_customers), the customer (`customer:<id>`: once per definition). A key
held by an earlier occurrence's recipient keeps the person out of later occurrences, unless that recipient failed
or was skipped (a cancelled occurrence, a number suppressed then): then a later occurrence may try again."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd

from orchestration.sqlfiles import load_sql


def occurrence_of(con: sqlite3.Connection, campaign_id: int) -> int | None:
    """The recurring campaign whose occurrence this campaign is, or None."""
    row = con.execute(load_sql("recurring/occurrence_of_campaign.sql"), {"campaign_id": campaign_id}).fetchone()
    return None if row is None else int(row["recurring_id"])


def anchor_keys(frame: pd.DataFrame) -> pd.Series:
    """Each recipient's key: its anchor appointment, else its customer."""
    appointment = frame["anchor_appointment_id"]
    by_appointment = "appointment:" + appointment.astype("Int64").astype(str)
    by_customer = "customer:" + frame["customer_id"].astype("Int64").astype(str)
    return by_appointment.where(appointment.notna(), by_customer)


def keep_first(con: sqlite3.Connection, recurring_id: int, campaign_id: int, frame: pd.DataFrame,
               bodies: pd.Series) -> tuple[pd.DataFrame, pd.Series, int]:  # fmt: skip
    """Inside the transaction that inserts these recipients: drops the ones an earlier occurrence already has (by
    key) and records the keys of the rest; returns the kept rows, their bodies and how many were dropped."""
    keys = anchor_keys(frame)
    taken = {row[0] for row in con.execute(load_sql("recurring/keys_taken.sql"), {
        "recurring_id": recurring_id, "campaign_id": campaign_id, "keys": json.dumps(keys.tolist())})}
    kept = ~keys.isin(taken)
    con.executemany(load_sql("recurring/key_upsert.sql"), [
        {"recurring_id": recurring_id, "anchor_key": key, "campaign_id": campaign_id, "phone_e164": phone}
        for key, phone in zip(keys[kept], frame.loc[kept, "phone_e164"].astype(str), strict=True)])
    return (frame[kept].reset_index(drop=True), bodies[kept].reset_index(drop=True), int((~kept).sum()))


def release(con: sqlite3.Connection, campaign_id: int) -> None:
    """The campaign's rows are cleared to be frozen again: its keys go with them."""
    con.execute(load_sql("recurring/keys_release.sql"), {"campaign_id": campaign_id})
