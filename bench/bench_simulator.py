"""Requests/s the Twilio simulator sustains for message creates, with 32 client threads, at 0 and 50 ms latency."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench import append_section
from orchestration.gateway import Gateway
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, Simulator

THREADS = 32
PORT = 34060


def _raw_sender(base_url: str):
    session = threading.local()
    url = f"{base_url}/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages.json"

    def send(i: int) -> bool:
        if not hasattr(session, "s"):
            session.s = requests.Session()
        form = {"To": f"+1415{i % 10_000_000:07d}", "From": DEMO_FROM, "Body": "Benchmark message"}
        return session.s.post(url, data=form, auth=(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN), timeout=30).status_code == 201

    return send


def _gateway_sender(base_url: str):
    gateway = Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, base_url=base_url, timeout=30)
    return lambda i: gateway.send(f"+1415{i % 10_000_000:07d}", "Benchmark message").ok


def _rate(send, seconds: float) -> tuple[float, int]:
    """Creates/s over `seconds` with THREADS threads sending back to back; also the count of non-201 answers."""
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))
    lock = threading.Lock()

    def worker() -> tuple[int, int]:
        done = failed = 0
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter)
            ok = send(i)
            done += 1
            failed += not ok
        return done, failed

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda _: worker(), range(THREADS)))
    elapsed = time.perf_counter() - started
    return sum(d for d, _ in results) / elapsed, sum(f for _, f in results)


def _cli_simulator(latency_ms: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("bkntc-sms")), "simulator", "--port", str(PORT),
         "--latency-ms", str(latency_ms), "--no-suffix-errors"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    process.stdout.readline()
    return process


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 s per measurement instead of 10 s")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 10.0
    base_url = f"http://127.0.0.1:{PORT}"
    lines = [f"_{THREADS} client threads sending back to back for {seconds:g} s each_", "",
             "| simulator | latency | client | creates/s | non-201 | simulator CPU per create |",
             "|---|---|---|---|---|---|"]
    for latency in (0, 50):
        process = _cli_simulator(latency)
        try:
            for client, factory in (("requests.Session per thread", _raw_sender),
                                    ("Gateway (twilio lib)", _gateway_sender)):
                cpu_before, started = _cpu_seconds(process.pid), time.perf_counter()
                rate, failed = _rate(factory(base_url), seconds)
                cpu = (_cpu_seconds(process.pid) - cpu_before) / (rate * (time.perf_counter() - started))
                lines.append(f"| own process (CLI) | {latency} ms | {client} | {rate:,.0f} | {failed} | "
                             f"{cpu * 1000:.2f} ms |")
                print(lines[-1], flush=True)
        finally:
            process.terminate()
            process.wait(timeout=10)
    with Simulator(port=PORT, faults=None) as in_process:
        in_process.configure(suffix_errors={})
        rate, failed = _rate(_gateway_sender(in_process.base_url), seconds)
    lines.append(f"| in-process thread | 0 ms | Gateway (twilio lib) | {rate:,.0f} | {failed} | (shared) |")
    print(lines[-1], flush=True)
    lines += ["", "The client threads run on the same 2 cores and use most of the CPU; the simulator's own CPU per "
              "create says how many creates/s it could serve alone (1 / that figure, per core).", "",
              "With 50 ms latency, 32 threads can issue at most 32 / 0.05 s = 640 creates/s: "
              "that row measures that the simulator adds little on top of its configured latency."]
    append_section("Twilio simulator: message creates per second (bench_simulator)", "\n".join(lines))


if __name__ == "__main__":
    main()
