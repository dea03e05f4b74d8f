"""app/worker.py: a connection cancelled at shutdown is one log line, other loop errors are not.

The SIGTERM part is exercised by the rolling restart (tests/topology/test_rolling_restart.py),
which fails without it.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.worker import report_loop_error


async def test_a_connection_cancelled_while_stopping_is_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(report_loop_error)
    handlers: list[asyncio.Task[None]] = []
    accepted = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        accepted.set()
        await asyncio.sleep(3600)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(accepted.wait(), 5)
        with caplog.at_level(logging.INFO):
            handlers[0].cancel()  # what the loop's teardown does to an unanswered connection
            await asyncio.sleep(0.1)
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
        loop.set_exception_handler(previous)

    assert "a connection accepted while stopping was closed" in caplog.text
    assert "Traceback" not in caplog.text
    assert "Exception in callback" not in caplog.text


def test_any_other_loop_error_keeps_asyncio_s_report(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            report_loop_error(loop, {"message": "boom in a callback", "exception": ValueError("x")})
            report_loop_error(
                loop, {"message": "cancelled elsewhere", "exception": asyncio.CancelledError()}
            )
    finally:
        loop.close()

    assert "boom in a callback" in caplog.text
    assert "cancelled elsewhere" in caplog.text
    assert "a connection accepted while stopping" not in caplog.text
