"""The lifecycle state machine's base: its browsers and model, the helpers its rules share, and
the invariants checked after every step.

`LifecycleMachine` holds `BROWSERS` browsers (`browser.Browser`, one cookie jar each) and the
`model.Model` of accounts and sessions; the rules live in mixins on top of it (`rules_browsing`,
`rules_sign_out`, `rules_disruptions`), put together in `test_session_lifecycle.SessionLifecycle`.
The helpers here read a response against the model (`_expect_page`, `_fragment_kind`,
`_htmx_action`) and raise `LifecycleError` naming the browser and its state. Invariants: no
traceback in the app's or core's log, every jar holds exactly the session the model says, the core
has exactly the sessions the model says, per account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import quote

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant

from tests.lifecycle.browser import Browser, Tokens, jwt_payload
from tests.lifecycle.model import (
    Account,
    Freshness,
    Holder,
    Model,
    Outcome,
    awaits_promotion,
    freshness,
    page_outcome,
    renders_for,
    session_rows,
)
from tests.lifecycle.responses import Checks, LifecycleError, Visit, XhrResult
from tests.lifecycle.stack import ACCESS_TOKEN_VALIDITY, Stack, wait_until
from tests.lifecycle.stats import RunStats

BROWSERS = 3
MAX_ACCOUNTS = 2  # few accounts: browsers share them, so revocations reach others
PASSWORD = "correct-horse-1"
# Per example: sleeps until an access token expired (each up to 2 s), core restarts (~0.5 s).
MAX_EXPIRIES = 2
MAX_RESTARTS = 1
REFRESH_TO_DASHBOARD = "/auth/session/refresh?redirectBack=%2Fdashboard"
LOGIN_TO_DASHBOARD = "/login?redirectBack=%2Fdashboard"
CONCURRENCY_TIMEOUT = 30.0

BROWSER = st.integers(0, BROWSERS - 1)
# Rules draw the same shapes whatever the model says (no model-dependent preconditions or
# sampled_from(model state)), so a replay while shrinking draws what the first run drew: a rule
# picks the `pick`-th candidate modulo their number and is a no-op when there is none.
PICK = st.integers(0, 7)


def new_password() -> str:
    return f"pw-{uuid.uuid4().hex[:10]}-9"


def refresh_then(path: str) -> str:
    return "/auth/session/refresh?redirectBack=" + quote(path, safe="")


def other_sessions_text(count: int) -> str:
    noun = "session" if count == 1 else "sessions"
    return f"Signed out {count} other {noun}."


def password_changed_text(count: int) -> str:
    if count == 0:
        return "No other session was signed in."
    if count == 1:
        return "1 other session was signed out."
    return f"{count} other sessions were signed out."


class LifecycleMachine(RuleBasedStateMachine):
    """Browsers, accounts and sessions against the live app and core: state, helpers, invariants."""

    stack: Stack
    checks: Checks
    run: RunStats

    def __init__(self) -> None:
        super().__init__()
        self.run.examples += 1
        example = self.run.examples
        self.browsers = [
            Browser(f"{example}.{i}", self.stack, self.checks) for i in range(BROWSERS)
        ]
        self.model = Model(holders=[Holder() for _ in range(BROWSERS)])
        self.slept = 0.0
        self.expiries = 0
        self.restarts = 0

    def teardown(self) -> None:
        self.run.slept += self.slept
        for browser in self.browsers:
            browser.close()

    # ------------------------------------------------------------------ helpers

    def _fail(self, i: int, what: str, detail: str = "") -> LifecycleError:
        holder = self.model.holders[i]
        state = (
            "signed out"
            if holder.handle is None
            else ("live" if self.model.is_live(holder) else "revoked elsewhere")
        )
        return LifecycleError(
            f"browser {i} ({state}, session {holder.handle}): {what}\n{detail}\n"
            f"logs: {self.stack.directory}"
        )

    def _label(self, i: int) -> str:
        """The browser's state for the run's event counts: signed-out, live or revoked, and
        how its access token stands (read before the step acts)."""
        holder = self.model.holders[i]
        if holder.handle is None:
            return "signed-out"
        state = "live" if self.model.is_live(holder) else "revoked"
        tokens = self.browsers[i].tokens()
        promotion = "+unpromoted" if awaits_promotion(tokens) else ""
        return f"{state}/{freshness(tokens).value}{promotion}"

    def _note(self, label: str, event: str) -> None:
        self.run.seen(f"{event} [{label}]")

    def _indices(self, predicate: Callable[[Holder], bool]) -> list[int]:
        return [i for i, holder in enumerate(self.model.holders) if predicate(holder)]

    def _pick(self, pick: int, predicate: Callable[[Holder], bool]) -> int | None:
        candidates = self._indices(predicate)
        return candidates[pick % len(candidates)] if candidates else None

    def _account(self, pick: int) -> Account:
        return self.model.accounts[pick % len(self.model.accounts)]

    def _live(self, holder: Holder) -> bool:
        return self.model.is_live(holder)

    def _has_others(self, holder: Holder) -> bool:
        if not self.model.is_live(holder) or holder.account is None:
            return False
        return len(self.model.handles_of(holder.account)) > 1

    def _expect_page(self, i: int, visit: Visit, path: str, allowed: set[Outcome]) -> Outcome:
        holder = self.model.holders[i]
        outcome = page_outcome(visit, path, holder)
        if outcome not in allowed:
            raise self._fail(
                i,
                f"loading {path} ended {outcome.value}, "
                f"expected {sorted(o.value for o in allowed)}",
                visit.describe() + "\n" + visit.text[:600],
            )
        if outcome is Outcome.LOGIN:
            tokens = self.browsers[i].tokens()
            if tokens.any:
                raise self._fail(
                    i, "on the sign-in page but the jar still holds a session", visit.describe()
                )
            holder.clear()
        if outcome is Outcome.RENDERED and path == "/sessions" and self.model.is_live(holder):
            self._check_listing(i, visit.text)
        return outcome

    def _check_listing(self, i: int, body: str) -> None:
        holder = self.model.holders[i]
        assert holder.account is not None
        rows, current = session_rows(body)
        expected = self.model.handles_of(holder.account)
        if rows != expected or current != {holder.handle}:
            raise self._fail(
                i,
                f"/sessions lists {sorted(rows)} (current {sorted(current)}), "
                f"model {sorted(expected)}",
            )

    def _page_expectation(
        self, holder: Holder, tokens: Tokens, check_database: bool
    ) -> set[Outcome]:
        if holder.handle is None:
            return {Outcome.LOGIN}
        if self.model.is_live(holder):
            return {Outcome.RENDERED}
        fresh = freshness(tokens)
        if check_database or fresh is Freshness.EXPIRED or awaits_promotion(tokens):
            return {Outcome.LOGIN}
        if fresh is Freshness.FRESH:
            return {Outcome.RENDERED}  # a revoked session's JWT still verifies until it expires
        return {Outcome.RENDERED, Outcome.LOGIN}

    def _fresh_page(self, i: int, path: str) -> Visit:
        """Load `path` (live session) with a token that stays valid for a form submission."""
        browser = self.browsers[i]
        visit = browser.navigate(path)
        self._expect_page(i, visit, path, {Outcome.RENDERED})
        tokens = browser.tokens()
        if freshness(tokens) is not Freshness.FRESH:
            assert tokens.expires_at is not None
            self.slept += wait_until(tokens.expires_at + 0.05, ACCESS_TOKEN_VALIDITY + 1)
            visit = browser.navigate(path)
            self._expect_page(i, visit, path, {Outcome.RENDERED})
            if freshness(browser.tokens()) is not Freshness.FRESH:
                raise self._fail(
                    i, f"a refresh on {path} did not leave a fresh token", visit.describe()
                )
        return visit

    def _fragment_kind(self, result: XhrResult, holder: Holder) -> str:
        """card | refresh (and back, rendered) | refresh-failed | login | unavailable | other."""
        response = result.response
        if response.status_code == 503:
            return "unavailable"
        if (
            response.status_code == 200
            and holder.account is not None
            and result.navigation is None
            and renders_for(response.text, holder, fragment=True)
        ):
            return "card"
        if response.status_code == 401 and result.navigation is not None:
            navigation = result.navigation
            outcome = page_outcome(navigation, "/dashboard", holder)
            if result.hx_redirect == REFRESH_TO_DASHBOARD:
                if outcome is Outcome.RENDERED:
                    return "refresh"
                if outcome is Outcome.LOGIN:
                    return "refresh-failed"
                if outcome is Outcome.UNAVAILABLE:
                    return "refresh-unavailable"
            if result.hx_redirect == LOGIN_TO_DASHBOARD and outcome is Outcome.LOGIN:
                return "login"
        return "other"

    def _sign_in_landed(self, i: int, visit: Visit, account: Account, form: str) -> None:
        browser, holder = self.browsers[i], self.model.holders[i]
        if visit.passed_through != [form, "/dashboard"] or visit.status != 200:
            raise self._fail(i, f"{form} did not land on the dashboard", visit.describe())
        tokens = browser.tokens()
        handle = tokens.handle
        if handle is None or tokens.refresh is None:
            raise self._fail(i, f"{form} set no session", visit.describe())
        if handle in self.model.live:
            raise self._fail(i, f"{form} reused session {handle}")
        assert tokens.access is not None
        if jwt_payload(tokens.access)["sub"] != account.user_id:
            raise self._fail(i, f"{form} signed in as someone else")
        # Signing in over a session ends the one the jar held before (finding 2, fixed).
        if holder.handle is not None:
            self.model.live.pop(holder.handle, None)
        holder.account, holder.handle = account, handle
        self.model.live[handle] = account.user_id
        self._expect_page(i, visit, "/dashboard", {Outcome.RENDERED})

    def _htmx_action(self, i: int, result: XhrResult, fresh: Freshness, page: str) -> bool:
        """Whether an htmx action ran: 200, or (token expired) 401 to refresh and back, not run.

        `fresh` is the token's standing read just before the request was sent.
        """
        if result.status == 200 and fresh is not Freshness.EXPIRED:
            return True
        if (
            result.status == 401
            and result.hx_redirect == refresh_then(page)
            and result.navigation is not None
            and fresh is not Freshness.FRESH
        ):
            self._expect_page(i, result.navigation, page, {Outcome.RENDERED})
            return False
        raise self._fail(i, f"an htmx action with a {fresh.value} token", result.describe())

    # ------------------------------------------------------------------ invariants

    @invariant()
    def logs_have_no_traceback(self) -> None:
        self.run.steps += 1
        for name, text in self.stack.new_log_text().items():
            for marker in ("Traceback", "refresh loop broken"):
                if marker in text:
                    start = max(0, text.index(marker) - 400)
                    raise LifecycleError(
                        f"{marker!r} in the {name} log:\n{text[start : start + 3000]}"
                    )

    @invariant()
    def jars_hold_what_the_model_says(self) -> None:
        for i, browser in enumerate(self.browsers):
            holder, tokens = self.model.holders[i], browser.tokens()
            if holder.handle is None:
                if tokens.any:
                    raise self._fail(i, f"signed out, yet the jar holds session {tokens.handle}")
            elif tokens.access is None or tokens.refresh is None or tokens.handle != holder.handle:
                raise self._fail(
                    i, f"the jar holds session {tokens.handle} (access and refresh: {tokens})"
                )

    @invariant()
    def core_has_what_the_model_says(self) -> None:
        for account in self.model.accounts:
            core = self.stack.session_handles(account.user_id)
            model = self.model.handles_of(account)
            if core != model:
                raise LifecycleError(
                    f"{account.email}: the core has sessions {sorted(core)}, "
                    f"the model {sorted(model)}"
                )
