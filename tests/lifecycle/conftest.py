"""The lifecycle suite's own live stack, and the example counts in the terminal summary.

`lifecycle_stack` (session scope) starts `python -m localcore --access-token-validity 2` on its own
SQLite file and the app in Hypercorn, both on free loopback ports, and stops both by PID. It is not
the shared `localcore` fixture: the suite stops and restarts this core (same port and database).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lifecycle.harness import Stack
from tests.lifecycle.stats import RUNS


@pytest.fixture(scope="session")
def lifecycle_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack.start(tmp_path_factory.mktemp("lifecycle"))
    try:
        yield stack
    finally:
        stack.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for run in RUNS:
        terminalreporter.write_line(run.summary())
        if terminalreporter.config.get_verbosity() > 0:
            for line in run.event_lines():
                terminalreporter.write_line(line)
