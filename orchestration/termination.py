"""SIGTERM and SIGINT end the product's processes, even those started with them ignored.

A process started as a background job of a non-interactive shell (`sh -c 'bkntc-sms ... &'`, nohup scripts, CI
runners) inherits SIGINT ignored, and Dagster maps SIGTERM to SIGINT's disposition (at the start of its CLIs, and at
the end of every `capture_interrupts` block of a run), so SIGTERM becomes ignored too: in the process and in every
child it starts afterwards, since an ignored signal stays ignored across exec. Seen in the suite: a test worker's
SIGTERM was ignored after an in-process run; every CLI send run it started then ignored SIGTERM, and so did the
compute-log `tail -F` children of its steps, which Dagster ends with SIGTERM: each step's clean-up waited 30 s for
them, and they outlived the run (their orphan watcher's SIGTERM ignored as well), holding its output open.

`answer_termination()` is called first by the CLI (every command, and so the services and runs it starts): an
ignored SIGTERM is restored to its default, an ignored SIGINT to Python's KeyboardInterrupt. A run
stopped so is a stopped run (the ledger resumes it exactly once); a send that could not be stopped is not. The run
process a launch starts (`dagster api execute_run`) needs nothing: its steps' children start inside Dagster's
`capture_interrupts` block, where SIGTERM has a handler, and tests/test_run_signals.py checks that path too."""

from __future__ import annotations

import signal
import threading


def answer_termination() -> None:
    """Undoes an inherited SIG_IGN of SIGTERM and SIGINT in this process (and so in the children it starts).
    Signal dispositions belong to the main thread: called from another (a CLI invoked in a thread), it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
