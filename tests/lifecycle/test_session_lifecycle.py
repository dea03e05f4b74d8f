"""A model-based test of the session lifecycle: hypothesis drives browsers against the live stack.

The suite's own local core (2 s access tokens, default absolute lifetime) and the app run as real
processes on loopback (`conftest.py`); each browser is one cookie jar (`browser.Browser`). The
state machine below (`SessionLifecycle`: its base, helpers and invariants in `machine.py`, its
rules in `rules_browsing.py`, `rules_sign_out.py` and `rules_disruptions.py`) mixes, for several
browsers and accounts:

rules: sign up, sign in (also with a stale password), render a page (/dashboard, or /sessions and
/account, which check the database), render the session card as an htmx fragment, fire two or
three requests of one browser at once (fragments, page loads, SDK refreshes), let the access token
expire, the server-side refresh hop (GET /auth/session/refresh?redirectBack=/dashboard), the SDK
refresh (POST with the refresh cookie, supertokens-web-js's headers), sign out by form and by htmx
(also right after an SDK refresh), sign out another session from /sessions, sign out all others,
change the password, reset it with the emailed link, replay a refresh token two generations old
(theft: the session ends), stop and restart the core.

invariants (after every step; most also checked on every response by `responses.Checks`): no 5xx
(but a 503 while the core is down) and no traceback in the app's or core's log; no 3xx for an
htmx or fetch request, no HX-Redirect for a page, every Location/HX-Redirect same-origin; a
browser the model says is signed out holds no session cookie at all, and every jar holds exactly
the session the model says; the core has exactly the sessions the model says, per account;
/sessions lists exactly those; a signed-out browser never renders a protected page or fragment
again; a session revoked elsewhere never renders a check_database route and never refreshes; a
browser is never signed out by its own concurrent requests or by the core being down.

Form submissions start from a page loaded with a token that stays valid for them, as a person's
would; a submission after expiry (finding 1, fixed) has its own test in test_findings.py. htmx
actions go at any time (after expiry: 401 + HX-Redirect to the refresh hop and back, the action
not done). The default run keeps to the 90 s budget; `-m slow` runs 300 examples. `pytest -v`
lists how often each rule acted in each browser state. Run counts are printed in the terminal
summary.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.lifecycle.responses import Checks
from tests.lifecycle.rules_disruptions import DisruptionRules
from tests.lifecycle.rules_sign_out import SignOutRules
from tests.lifecycle.stack import Stack
from tests.lifecycle.stats import RunStats, record_run


def lifecycle_settings(max_examples: int, stateful_step_count: int, shrink: bool) -> settings:
    """No example database (each run starts fresh), no deadline (real HTTP and sleeps).

    Without `shrink` a failure is reported as generated (every step is printed): shrinking an
    example whose outcome depends on the clock can take Hypothesis's full 5 minutes.
    """
    phases = [Phase.explicit, Phase.generate]
    if shrink:
        phases += [Phase.shrink, Phase.explain]
    return settings(
        max_examples=max_examples,
        stateful_step_count=stateful_step_count,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


# The default run stays well within 90 s (about 40 s here, processes included).
DEFAULT_SETTINGS = lifecycle_settings(max_examples=25, stateful_step_count=30, shrink=False)
SLOW_SETTINGS = lifecycle_settings(max_examples=300, stateful_step_count=40, shrink=True)


class SessionLifecycle(SignOutRules, DisruptionRules):
    """Browsers, accounts and sessions against the live app and core (see the module docstring)."""


def run_lifecycle(stack: Stack, label: str, chosen: settings) -> RunStats:
    """Run the state machine under `chosen` settings; record its counts (reported at the end)."""
    run = RunStats(label)
    checks = Checks(stack.url)
    machine = type(
        "SessionLifecycleRun", (SessionLifecycle,), {"stack": stack, "checks": checks, "run": run}
    )
    stack.new_log_text()  # what other tests left in the logs is theirs
    started = time.monotonic()
    try:
        run_state_machine_as_test(machine, settings=chosen)
    finally:
        run.seconds = time.monotonic() - started
        run.responses = checks.responses
        record_run(run)
    return run


def test_session_lifecycle(lifecycle_stack: Stack) -> None:
    run = run_lifecycle(lifecycle_stack, "default", DEFAULT_SETTINGS)
    assert run.examples >= 1


@pytest.mark.slow
def test_session_lifecycle_long(lifecycle_stack: Stack) -> None:
    run = run_lifecycle(lifecycle_stack, "slow", SLOW_SETTINGS)
    assert run.examples >= 300
