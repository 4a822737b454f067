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
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench import append_section
from bench.bench_send import provenance
from orchestration.config import Home
from orchestration.delivery import set_callback_url
from orchestration.delivery.workers import THREADS
from orchestration.ledger import Ledger
from orchestration.sender import CampaignSettings, send_manual
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio

PORT = 24330  # away from the tests' free_port ranges (343xx)
GOAL_PER_S = 1_000
CLIENT_PROCESSES = 2
CLIENT_THREADS = 4
COMMITTED = re.compile(r"committed (\d+) status reports in (\d+) batches")  # each worker's last line


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


def start_receiver(home: Home, workers: int, log: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("bkntc-sms")), "--home", str(home.root), "callbacks", "serve",
               "--port", str(PORT), "--workers", str(workers)]
    # its log goes to a file: an unread pipe would fill and stall the receiver
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len(tree(process.pid)) == workers + 1:
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/")
                return process
            except OSError:
                pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the receiver did not start on port {PORT}")


def tree(pid: int) -> list[int]:
    """A process and its children (the gunicorn arbiter and its workers), from /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(child) for child in children.read_text().split())] if children.exists() else [pid]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def client(share: list[tuple[bytes, str]], threads: int, go: Any, out: Any) -> None:
    """One client process: `threads` threads, each on its own keep-alive connection, post the share once `go` is
    set; puts (answers, CPU seconds of this process while posting) on `out`."""
    answers: Counter = Counter()
    lock = threading.Lock()

    def post(part: list[tuple[bytes, str]]) -> None:
        con = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        seen: Counter = Counter()
        for body, signature in part:
            con.request("POST", "/twilio/status?tenant=1", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
            reply = con.getresponse()
            reply.read()
            seen[reply.status] += 1
        con.close()
        with lock:
            answers.update(seen)

    workers = [threading.Thread(target=post, args=(share[i::threads],)) for i in range(threads)]
    go.wait()
    before = sum(os.times()[:2])
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    out.put((dict(answers), sum(os.times()[:2]) - before))


def post_all(requests_: list[tuple[bytes, str]], processes: int, threads: int) -> tuple[float, Counter, float]:
    """Posts every request from `processes` client processes of `threads` connections each:
    (seconds from the start signal to the last answer, answers, the clients' CPU seconds)."""
    context = multiprocessing.get_context("fork")  # the prepared requests are inherited, not pickled
    go, out = context.Event(), context.Queue()
    # consecutive requests go to different connections: a SID's `sent` and `delivered` are posted by different
    # clients, so order between them is not kept, as with Twilio's own retries
    connections = processes * threads
    shares = [[r for i, r in enumerate(requests_) if i % connections % processes == p] for p in range(processes)]
    clients = [context.Process(target=client, args=(share, threads, go, out)) for share in shares]
    for process in clients:
        process.start()
    time.sleep(0.5)  # every client is forked and waiting
    started = time.perf_counter()
    go.set()
    results = [out.get() for _ in clients]
    seconds = time.perf_counter() - started
    for process in clients:
        process.join()
    answers: Counter = Counter()
    for seen, _ in results:
        answers.update(seen)
    return seconds, answers, sum(cpu for _, cpu in results)


def one_run(root: Path, messages: int, workers: int, processes: int, threads: int) -> dict:
    home, sids = prepare(root, messages)
    url = f"http://127.0.0.1:{PORT}/twilio/status?tenant=1"
    prepared = signed_requests(sids, url)
    log = root / "receiver.log"
    receiver = start_receiver(home, workers, log)
    try:
        pids = tree(receiver.pid)
        cpu_before = cpu_seconds(pids)
        seconds, answers, client_cpu = post_all(prepared, processes, threads)
        server_cpu = cpu_seconds(pids) - cpu_before
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)
    commits = [tuple(map(int, found)) for found in COMMITTED.findall(log.read_text(errors="replace"))]
    with Ledger(home.ledger).read() as con:
        persisted = con.execute("SELECT count(*) FROM delivery_events WHERE source = 'callback'").fetchone()[0]
        delivered = con.execute("SELECT count(*) FROM recipients WHERE delivery_status = 'delivered'").fetchone()[0]
        finals = con.execute(
            "SELECT count(*) FROM delivery_events WHERE applied AND status = 'delivered'").fetchone()[0]
    result = {"workers": workers, "callbacks": len(prepared), "persisted": persisted, "delivered": delivered,
              "finals_applied": finals, "messages": messages, "seconds": seconds, "per_s": persisted / seconds,
              "answers": dict(answers), "server_cpu_ms": 1000 * server_cpu / len(prepared),
              "client_cpu_ms": 1000 * client_cpu / len(prepared),
              "batched": sum(n for n, _ in commits), "batches": sum(b for _, b in commits),
              "server_cores": server_cpu / seconds, "client_cores": client_cpu / seconds,
              "load": os.getloadavg()[0]}
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
    parser.add_argument("--workers", default="1,2,4", help="receiver processes to measure, comma-separated")
    parser.add_argument("--client-processes", type=int, default=CLIENT_PROCESSES)
    parser.add_argument("--client-threads", type=int, default=CLIENT_THREADS, help="connections per client process")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    messages = args.messages or (500 if args.quick else 5_000)
    runs: dict[int, list[dict]] = {}
    for workers in (int(w) for w in args.workers.split(",")):
        for i in range(args.repeats):
            with tempfile.TemporaryDirectory(prefix=f"bench-callbacks-{workers}-{i}-") as folder:
                runs.setdefault(workers, []).append(
                    one_run(Path(folder), messages, workers, args.client_processes, args.client_threads))
    callbacks = 2 * messages
    lines = [
        "| receiver processes | callbacks persisted per second | goal | receiver CPU per callback | clients' CPU per "
        "callback | cores busy: receiver + clients | reports per commit | rows in delivery_events / posted | "
        "delivered / messages | answers |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workers, done in runs.items():
        rate = statistics.median(r["per_s"] for r in done)
        lines.append(
            f"| {workers} | {spread([r['per_s'] for r in done], ',.0f', '/s')} | ≥ {GOAL_PER_S:,}/s: "
            f"{'met' if rate >= GOAL_PER_S else 'NOT met'} | "
            f"{spread([r['server_cpu_ms'] for r in done], '.2f', ' ms')} | "
            f"{spread([r['client_cpu_ms'] for r in done], '.2f', ' ms')} | "
            + ", ".join(f"{r['server_cores']:.2f} + {r['client_cores']:.2f}" for r in done) + " | "
            + ", ".join(f"{r['batched'] / max(r['batches'], 1):.1f}" for r in done) + " | "
            + ", ".join(f"{r['persisted']:,} / {r['callbacks']:,}" for r in done) + " | "
            + ", ".join(f"{r['delivered']:,} / {r['messages']:,}" for r in done) + " | "
            + ", ".join(str(dict(sorted(r["answers"].items()))) for r in done) + " |")
    exact = all(r["persisted"] == r["callbacks"] and r["delivered"] == r["finals_applied"] == r["messages"]
                for done in runs.values() for r in done)
    lines += [
        "",
        f"`bkntc-sms callbacks serve --workers N` in its own process (gunicorn, gthread workers of "
        f"{THREADS} threads, each worker with its own writer thread; the CallbackApp as shipped). {callbacks:,} "
        f"callbacks, every one signed beforehand with the tenant's token, posted by {args.client_processes} client "
        f"processes of {args.client_threads} keep-alive connections each, on the same "
        f"{os.cpu_count()} cores. Each message gets `sent` then `delivered`, posted by different clients (so in "
        f"either order). Every callback applied once: "
        f"{'yes' if exact else 'NO'} (one row per callback posted, every message delivered, one delivered event "
        f"applied per message). Run with{'' if args.quick else 'out'} `--quick`; {provenance()}.",
    ]
    text = "\n".join(lines)
    print(text)
    append_section("Status-callback receiver throughput, several processes (bench_callbacks)", text)


if __name__ == "__main__":
    sys.exit(main())
