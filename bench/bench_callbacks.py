"""The status-callback receiver under load: signed callbacks over real HTTP persisted per second (goal ≥ 1,000/s).

`bkntc-sms callbacks serve` runs in its own process on a home whose tenant 1 has Twilio credentials and one campaign
of N sent recipients (each with a message SID, delivery status `queued`; written straight into the ledger, since
the receiver only needs a SID a recipient owns). The bench signs every callback beforehand with the tenant's auth
token (the twilio library's RequestValidator, as Twilio signs them): for each message `sent` then `delivered`, so
half of the callbacks move a status and half finish it. Several client threads, each on its own keep-alive HTTP
connection, post them as fast as the receiver answers. The figure is rows persisted in `delivery_events` (counted in
the ledger afterwards) over the wall time from the first request to the last answer.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench import append_section
from bench.bench_send import provenance
from orchestration.config import Home
from orchestration.delivery import set_callback_url
from orchestration.ledger import Ledger
from orchestration.sender import CampaignSettings, send_manual
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio

PORT = 38330  # away from the tests' free_port ranges (343xx)
GOAL_PER_S = 1_000
CLIENTS = 8


def prepare(root: Path, messages: int) -> tuple[Home, list[str]]:
    """A home with tenant 1's credentials, its public callback URL, and `messages` sent recipients: their SIDs."""
    home = Home.resolve(root / "home").ensure()
    ledger = Ledger(home.ledger)
    save_twilio(ledger, 1, TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM), TokenCipher.for_home(home))
    set_callback_url(ledger, 1, f"http://127.0.0.1:{PORT}/twilio/status")
    people = [(f"+1201{3_000_000 + i:07d}", "") for i in range(messages)]
    campaign = send_manual(ledger, 1, people, "Hello", "Callbacks", settings=CampaignSettings(rate_limit_per_s=0))
    with ledger.write() as con:
        con.execute(
            "UPDATE recipients SET state = 'sent', sid = printf('SM%032d', recipient_id), sent_at = ?, "
            "delivery_status = 'queued', delivery_next_check_at = ? WHERE campaign_id = ?",
            (time.time(), time.time() + 3600, campaign.campaign_id))
        sids = [row[0] for row in con.execute("SELECT sid FROM recipients WHERE campaign_id = ? ORDER BY 1",
                                              (campaign.campaign_id,))]
    return home, sids


def signed_requests(sids: list[str], url: str) -> list[tuple[bytes, str]]:
    """(body, X-Twilio-Signature) of each callback: every SID `sent`, then every SID `delivered`."""
    validator = RequestValidator(DEMO_AUTH_TOKEN)
    made = []
    for status in ("sent", "delivered"):
        for sid in sids:
            form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                    "AccountSid": DEMO_ACCOUNT_SID, "From": DEMO_FROM, "To": "+12013000000",
                    "ApiVersion": "2010-04-01"}
            made.append((urlencode(form).encode(), validator.compute_signature(url, form)))
    return made


def start_receiver(home: Home) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("bkntc-sms")), "--home", str(home.root), "callbacks", "serve",
               "--port", str(PORT)]
    # its request log goes nowhere: an unread pipe would fill and stall the receiver
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/")
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the receiver did not start on port {PORT}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post_all(requests_: list[tuple[bytes, str]], clients: int) -> tuple[float, dict[int, int]]:
    """Posts every request from `clients` threads (each its own keep-alive connection): (seconds, answers)."""
    answers: dict[int, int] = {}
    lock = threading.Lock()
    shares = [requests_[i::clients] for i in range(clients)]
    # A sent and a delivered callback of one SID go to different threads: order between them is not kept, as
    # with Twilio's own retries; precedence makes the final state right either way.

    def client(share: list[tuple[bytes, str]]) -> None:
        con = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        seen: dict[int, int] = {}
        for body, signature in share:
            con.request("POST", "/twilio/status?tenant=1", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
            reply = con.getresponse()
            reply.read()
            seen[reply.status] = seen.get(reply.status, 0) + 1
        con.close()
        with lock:
            for code, n in seen.items():
                answers[code] = answers.get(code, 0) + n

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, answers


def one_run(root: Path, messages: int, clients: int) -> dict:
    home, sids = prepare(root, messages)
    url = f"http://127.0.0.1:{PORT}/twilio/status?tenant=1"
    prepared = signed_requests(sids, url)
    receiver = start_receiver(home)
    try:
        cpu_before = cpu_seconds(receiver.pid)
        seconds, answers = post_all(prepared, clients)
        cpu = cpu_seconds(receiver.pid) - cpu_before
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    with Ledger(home.ledger).read() as con:
        persisted = con.execute("SELECT count(*) FROM delivery_events WHERE source = 'callback'").fetchone()[0]
        delivered = con.execute("SELECT count(*) FROM recipients WHERE delivery_status = 'delivered'").fetchone()[0]
    result = {"callbacks": len(prepared), "persisted": persisted, "delivered": delivered, "messages": messages,
              "seconds": seconds, "per_s": persisted / seconds, "answers": answers, "clients": clients,
              "cpu_ms_per_callback": 1000 * cpu / len(prepared), "load": os.getloadavg()[0]}
    print(result, flush=True)
    return result


def spread(values: list[float], fmt: str, unit: str = "") -> str:
    if len(values) == 1:
        return f"{values[0]:{fmt}}{unit} (n=1)"
    return f"{statistics.median(values):{fmt}}{unit} ({min(values):{fmt}}–{max(values):{fmt}}, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 messages (1,000 callbacks)")
    parser.add_argument("--messages", type=int, help="messages (2 callbacks each; default 5,000)")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    messages = args.messages or (500 if args.quick else 5_000)
    runs = []
    for i in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix=f"bench-callbacks-{i}-") as folder:
            runs.append(one_run(Path(folder), messages, args.clients))
    rates = [r["per_s"] for r in runs]
    met = statistics.median(rates) >= GOAL_PER_S
    lines = [
        "| measure | figure | goal |",
        "|---|---|---|",
        f"| signed status callbacks persisted per second ({runs[0]['callbacks']:,} callbacks, {args.clients} "
        f"concurrent clients) | {spread(rates, ',.0f', '/s')} | ≥ {GOAL_PER_S:,}/s: "
        f"{'met' if met else 'NOT met'} |",
        "| rows in delivery_events / callbacks posted | "
        + ", ".join(f"{r['persisted']:,} / {r['callbacks']:,}" for r in runs) + " | all |",
        "| recipients delivered at the end | " + ", ".join(f"{r['delivered']:,} of {r['messages']:,}" for r in runs)
        + " | all |",
        "| receiver CPU per callback (its process's user + system time / callbacks) | "
        + spread([r["cpu_ms_per_callback"] for r in runs], ".2f", " ms")
        + f"; one free core would persist ≈ {1000 / statistics.median([r['cpu_ms_per_callback'] for r in runs]):,.0f}"
        "/s | - |",
        "| answers | " + ", ".join(str(dict(sorted(r["answers"].items()))) for r in runs) + " | 204 only |",
        "",
        f"`bkntc-sms callbacks serve` in its own process (werkzeug's threaded server, the CallbackApp as shipped); "
        f"the clients in the bench's process, each on one keep-alive connection, every request signed beforehand "
        f"with the tenant's token. Each message gets `sent` then `delivered`, posted by different clients. Run "
        f"with{'' if args.quick else 'out'} `--quick`; {provenance()}.",
    ]
    text = "\n".join(lines)
    print(text)
    append_section("Status-callback receiver throughput (bench_callbacks)", text)


if __name__ == "__main__":
    sys.exit(main())
