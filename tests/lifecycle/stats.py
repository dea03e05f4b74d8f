"""Counts of the lifecycle runs, printed in pytest's terminal summary (see conftest.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RunStats:
    """One run of the state machine: examples (replays while shrinking included), steps, and how
    often each rule really acted and each notable outcome was seen (`events`)."""

    label: str
    examples: int = 0
    steps: int = 0
    responses: int = 0
    seconds: float = 0.0
    slept: float = 0.0
    events: Counter[str] = field(default_factory=Counter)

    def seen(self, event: str) -> None:
        self.events[event] += 1

    def summary(self) -> str:
        return (
            f"session lifecycle ({self.label}): {self.examples} examples, {self.steps} steps, "
            f"{self.responses} HTTP responses checked, {self.seconds:.1f} s "
            f"({self.slept:.1f} s asleep)"
        )

    def event_lines(self) -> list[str]:
        return [f"  {count:6d}  {event}" for event, count in sorted(self.events.items())]


RUNS: list[RunStats] = []


def record_run(run: RunStats) -> None:
    RUNS.append(run)
