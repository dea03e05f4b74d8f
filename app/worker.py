"""A Hypercorn worker's shutdown: finish in-flight requests, then say so in the log.

With `--workers N`, Hypercorn's parent process stops its workers through a shared event: each
worker stops accepting, finishes its open requests (up to `graceful_timeout`) and exits. But as
soon as the *first* worker has exited, the parent sends SIGTERM to the others, and a worker has
no SIGTERM handler of its own (hypercorn 0.18, `run.py`): a worker still finishing a request dies
with it, and its client sees the connection drop. Under a rolling restart that is a failed
request and, for the refresh hop, a lost refresh.

So each worker ignores SIGTERM while its Hypercorn parent is alive: the parent is already
shutting it down, and after its own exit Python's multiprocessing waits for the remaining
workers to finish. A worker whose parent has gone takes SIGTERM as usual. A single-process server
(`workers = 0`) is left alone.

Every worker logs "worker PID stopped cleanly" once it has finished serving; the rolling-restart
test (tests/topology) counts those lines.

A connection accepted in the last instant of a worker's shutdown is cancelled unanswered when the
loop closes (nginx then sends a GET to the other instance). On Python 3.11, asyncio's stream
callback then raises the CancelledError itself and logs it as an unhandled traceback (3.12 checks
for cancellation there). Each worker logs that case as one line instead; every other loop error
keeps asyncio's default report.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from typing import Any

# hypercorn configures this logger (errorlog in hypercorn.toml); the app's own loggers have none.
logger = logging.getLogger("hypercorn.error")

CLEAN_STOP_MESSAGE = "worker %d stopped cleanly"


def _parent_is_alive() -> bool:
    parent = multiprocessing.parent_process()
    return parent is not None and parent.is_alive()


def _on_sigterm() -> None:
    if _parent_is_alive():
        logger.info("worker %d: parent's SIGTERM ignored, finishing open requests", os.getpid())
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def report_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: one line for a connection cancelled at shutdown."""
    handle = repr(context.get("handle", ""))
    if (
        isinstance(context.get("exception"), asyncio.CancelledError)
        and "StreamReaderProtocol.connection_made" in handle
    ):
        logger.info("worker %d: a connection accepted while stopping was closed", os.getpid())
        return
    loop.default_exception_handler(context)


async def prepare_worker_shutdown() -> None:
    """`before_serving`, in a Hypercorn worker process: SIGTERM no longer cuts requests short, and
    a connection cancelled while stopping is one log line."""
    if multiprocessing.parent_process() is None:
        return
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, _on_sigterm)
    loop.set_exception_handler(report_loop_error)


async def log_clean_stop() -> None:
    """`after_serving`: the server has finished every request it accepted."""
    logger.info(CLEAN_STOP_MESSAGE, os.getpid())
