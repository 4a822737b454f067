"""The callback receiver as `bkntc-sms callbacks serve --workers N` runs it: several gunicorn worker processes behind
one port, each with its own writer, all writing one ledger. Concurrent, duplicated and out-of-order callbacks for the
same messages, answered by different processes, end in Twilio's final states, each kept once."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from orchestration.delivery import set_callback_url
from tests.fixtures.servers import free_port
from tests.sending import numbers
from tests.test_delivery import UNDELIVERABLE, callback_form, events, post_signed, recipient, sent_campaign, sids

WORKERS = 3
COPIES = 3  # each status of each message is posted this many times
COMMITTED = re.compile(r"Worker (\d+) committed (\d+) status reports in (\d+) batches")


def serve(home, port: int, log: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("bkntc-sms")), "--home", str(home.root), "callbacks", "serve",
               "--port", str(port), "--workers", str(WORKERS)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 405:
                return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"the receiver did not start:\n{log.read_text(errors='replace')}")


@pytest.mark.slow
def test_concurrent_callbacks_for_the_same_messages_across_worker_processes_end_in_the_final_states(
        home, simulator, tmp_path):
    phones = [*numbers(12), UNDELIVERABLE]
    ledger, campaign_id = sent_campaign(home, phones)
    by_phone = sids(ledger, campaign_id)
    port = free_port(range(34400, 34500))
    set_callback_url(ledger, 1, f"http://127.0.0.1:{port}/twilio/status")
    url = f"http://127.0.0.1:{port}/twilio/status?tenant=1"
    posts = []
    for phone, sid in by_phone.items():
        final = callback_form(sid, "undelivered", 30005) if phone == UNDELIVERABLE else callback_form(sid, "delivered")
        posts += COPIES * [callback_form(sid, "queued"), callback_form(sid, "sent"), final]
    random.Random(12).shuffle(posts)  # finals before sent, duplicates interleaved

    log = tmp_path / "receiver.log"
    receiver = serve(home, port, log)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:  # a new connection per callback, as Twilio makes them
            answers = list(pool.map(lambda form: post_signed(url, form).status_code, posts))
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(timeout=60)

    assert answers == [204] * len(posts)
    committed = {int(pid): int(reports) for pid, reports, _ in COMMITTED.findall(log.read_text(errors="replace"))}
    assert len(committed) == WORKERS and sum(committed.values()) == len(posts)
    assert sum(1 for n in committed.values() if n > 0) >= 2  # the premise: several processes wrote the same SIDs
    found = {phone: recipient(ledger, sid) for phone, sid in by_phone.items()}
    assert {phone: r["delivery_status"] for phone, r in found.items()} == {
        **dict.fromkeys(numbers(12), "delivered"), UNDELIVERABLE: "undelivered"}
    assert found[UNDELIVERABLE]["delivery_error_code"] == 30005
    kept = events(ledger)
    assert len(kept) == len(posts)
    finals_applied = [e["sid"] for e in kept if e["applied"] and e["status"] in ("delivered", "undelivered")]
    assert sorted(finals_applied) == sorted(by_phone.values())  # one final per message, however many arrived
