"""A model-based test of the session lifecycle: hypothesis drives browsers against the live stack.

The suite's own local core (2 s access tokens, default absolute lifetime) and the app run as real
processes on loopback (`conftest.py`); each browser is one cookie jar (`harness.Browser`). The
state machine below mixes, for several browsers and accounts:

rules: sign up, sign in (also with a stale password), render a page (/dashboard, or /sessions and
/account, which check the database), render the session card as an htmx fragment, fire two or
three requests of one browser at once (fragments, page loads, SDK refreshes), let the access token
expire, the server-side refresh hop (GET /auth/session/refresh?redirectBack=/dashboard), the SDK
refresh (POST with the refresh cookie, supertokens-web-js's headers), sign out by form and by htmx
(also right after an SDK refresh), sign out another session from /sessions, sign out all others,
change the password, reset it with the emailed link, replay a refresh token two generations old
(theft: the session ends), stop and restart the core.

invariants (after every step; most also checked on every response by `harness.Checks`): no 5xx
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

import html
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.lifecycle.harness import (
    ACCESS,
    ACCESS_TOKEN_VALIDITY,
    REFRESH,
    Browser,
    Checks,
    LifecycleError,
    Stack,
    Tokens,
    Visit,
    XhrResult,
    allowing_503,
    jwt_payload,
    raw_request,
    replay_refresh,
    wait_until,
)
from tests.lifecycle.model import (
    CHECK_DATABASE_PAGES,
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
from tests.lifecycle.stats import RunStats, record_run

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


class SessionLifecycle(RuleBasedStateMachine):
    """Browsers, accounts and sessions against the live app and core (see the module docstring)."""

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

    # ------------------------------------------------------------------ accounts

    @initialize()
    def first_account(self) -> None:
        self.sign_up(0)

    @precondition(lambda self: len(self.model.accounts) < MAX_ACCOUNTS)
    @rule(i=BROWSER)
    def sign_up(self, i: int) -> None:
        browser = self.browsers[i]
        self._note(self._label(i), "sign up")
        email = f"lc-{uuid.uuid4().hex[:12]}@example.test"
        visit = browser.navigate("/signup", "POST", {"email": email, "password": PASSWORD})
        tokens = browser.tokens()
        if tokens.access is None:
            raise self._fail(i, "sign-up set no session", visit.describe())
        account = Account(email, PASSWORD, str(jwt_payload(tokens.access)["sub"]))
        self.model.accounts.append(account)
        self._sign_in_landed(i, visit, account, "/signup")

    @rule(i=BROWSER, pick=PICK, stale=st.booleans())
    def sign_in(self, i: int, pick: int, stale: bool) -> None:
        browser = self.browsers[i]
        account = self._account(pick)
        before = browser.tokens()
        self._note(
            self._label(i),
            "sign in" + (" (stale password)" if stale and account.stale_passwords else ""),
        )
        if stale and account.stale_passwords:
            password = account.stale_passwords[-1]
            visit = browser.navigate(
                "/login", "POST", {"email": account.email, "password": password}
            )
            if visit.status != 422 or "Incorrect email or password." not in visit.text:
                raise self._fail(i, "a stale password signed in", visit.describe())
            if browser.tokens() != before:
                raise self._fail(i, "a failed sign-in changed the jar", visit.describe())
            return
        credentials = {"email": account.email, "password": account.password}
        visit = browser.navigate("/login", "POST", credentials)
        self._sign_in_landed(i, visit, account, "/login")

    # ------------------------------------------------------------------ renders

    @rule(i=BROWSER, path=st.sampled_from(["/dashboard", "/sessions", "/account"]))
    def render_page(self, i: int, path: str) -> None:
        browser, holder = self.browsers[i], self.model.holders[i]
        tokens, label = browser.tokens(), self._label(i)
        allowed = self._page_expectation(holder, tokens, path in CHECK_DATABASE_PAGES)
        visit = browser.navigate(path)
        outcome = self._expect_page(i, visit, path, allowed)
        self._note(label, f"page {path}: {outcome.value}")

    @rule(i=BROWSER)
    def render_fragment(self, i: int) -> None:
        browser, holder = self.browsers[i], self.model.holders[i]
        tokens, label = browser.tokens(), self._label(i)
        fresh = freshness(tokens)
        if holder.handle is None:
            allowed = {"login"}
        elif self.model.is_live(holder):
            allowed = {
                Freshness.FRESH: {"card"},
                Freshness.EDGE: {"card", "refresh"},
                Freshness.EXPIRED: {"refresh"},
            }[fresh]
        elif fresh is Freshness.EXPIRED or awaits_promotion(tokens):
            allowed = {"refresh-failed"}
        else:
            allowed = {"card"} if fresh is Freshness.FRESH else {"card", "refresh-failed"}
        result = browser.htmx("GET", "/dashboard/session", "/dashboard")
        kind = self._fragment_kind(result, holder)
        if kind not in allowed:
            raise self._fail(
                i,
                f"the fragment ended {kind}, expected {sorted(allowed)} ({fresh.value} token)",
                result.describe() + "\n" + result.response.text[:400],
            )
        self._note(label, f"fragment: {kind}")
        if kind in ("refresh-failed", "login"):
            if browser.tokens().any:
                raise self._fail(
                    i, "sent to sign in, but the jar still holds a session", result.describe()
                )
            holder.clear()

    @rule(
        pick=PICK,
        kinds=st.lists(
            st.sampled_from(["fragment", "fragment", "page", "sdk-refresh"]), min_size=2, max_size=3
        ),
    )
    def concurrent_requests(self, pick: int, kinds: list[str]) -> None:
        """Requests of one browser at once (two polls, a poll and a tab, a web-js refresh...)."""
        i = self._pick(pick, self._live)
        if i is None:
            return
        browser, holder = self.browsers[i], self.model.holders[i]
        label = self._label(i)
        barrier = threading.Barrier(len(kinds), timeout=CONCURRENCY_TIMEOUT)

        def fire(kind: str) -> Any:
            barrier.wait()
            if kind == "fragment":
                return browser.htmx(
                    "GET", "/dashboard/session", "/dashboard", follow_hx_redirect=False
                )
            if kind == "page":
                return browser.navigate("/dashboard")
            return browser.sdk_refresh()

        with ThreadPoolExecutor(len(kinds)) as pool:
            futures = [pool.submit(fire, kind) for kind in kinds]
            results = [future.result(timeout=CONCURRENCY_TIMEOUT) for future in futures]
        hx_redirect: str | None = None
        for kind, result in zip(kinds, results, strict=True):
            if kind == "fragment":
                assert isinstance(result, XhrResult)
                if result.status == 401 and result.hx_redirect == REFRESH_TO_DASHBOARD:
                    hx_redirect = result.hx_redirect
                elif result.status != 200 or not renders_for(result.response.text, holder, True):
                    raise self._fail(
                        i, f"a concurrent fragment failed ({kinds})", result.describe()
                    )
            elif kind == "page":
                assert isinstance(result, Visit)
                self._expect_page(i, result, "/dashboard", {Outcome.RENDERED})
            elif result.status_code != 200:
                raise self._fail(
                    i,
                    f"a concurrent SDK refresh answered {result.status_code} ({kinds})",
                    result.text,
                )
        self._note(
            label, "concurrent " + "+".join(sorted(kinds)) + (": 401" if hx_redirect else "")
        )
        if hx_redirect is not None:  # the window navigates once, whichever poll asked
            self._expect_page(i, browser.navigate(hx_redirect), "/dashboard", {Outcome.RENDERED})
        # Not signed out by its own requests: the session still works against the database.
        self._expect_page(i, browser.navigate("/sessions"), "/sessions", {Outcome.RENDERED})

    # ------------------------------------------------------------------ time and refresh

    @precondition(lambda self: self.expiries < MAX_EXPIRIES)
    @rule(pick=PICK)
    def let_access_token_expire(self, pick: int) -> None:
        """Sleep until a browser's access token has expired (the others' age too)."""
        self.expiries += 1
        i = self._pick(pick, lambda holder: holder.handle is not None)
        if i is None:
            return
        expires_at = self.browsers[i].tokens().expires_at
        assert expires_at is not None
        self._note(self._label(i), "let the access token expire")
        self.slept += wait_until(expires_at + 0.05, ACCESS_TOKEN_VALIDITY + 1)
        assert freshness(self.browsers[i].tokens()) is Freshness.EXPIRED

    @rule(i=BROWSER)
    def server_side_refresh(self, i: int) -> None:
        browser, holder = self.browsers[i], self.model.holders[i]
        before, label = browser.tokens(), self._label(i)
        self._note(label, "refresh hop")
        live = self.model.is_live(holder)
        visit = browser.navigate(REFRESH_TO_DASHBOARD)
        self._expect_page(i, visit, "/dashboard", {Outcome.RENDERED} if live else {Outcome.LOGIN})
        if live:
            if browser.tokens().refresh == before.refresh:
                raise self._fail(
                    i, "the refresh hop did not rotate the refresh token", visit.describe()
                )
        elif visit.chain[0].headers.get("Location") != LOGIN_TO_DASHBOARD:
            raise self._fail(i, "a failed refresh did not send to sign in", visit.describe())

    @rule(i=BROWSER)
    def sdk_refresh(self, i: int) -> None:
        browser, holder = self.browsers[i], self.model.holders[i]
        before, label = browser.tokens(), self._label(i)
        self._note(label, "SDK refresh")
        response = browser.sdk_refresh()
        after = browser.tokens()
        if self.model.is_live(holder):
            if response.status_code != 200 or "front-token" not in response.headers:
                raise self._fail(
                    i, f"the SDK refresh answered {response.status_code}", response.text
                )
            if after.refresh == before.refresh or after.handle != holder.handle:
                raise self._fail(i, "the SDK refresh did not rotate the tokens")
            return
        if response.status_code != 401:
            raise self._fail(
                i, f"a dead session's SDK refresh answered {response.status_code}", response.text
            )
        if after.any:
            raise self._fail(i, "a failed SDK refresh left session cookies")
        holder.clear()

    # ------------------------------------------------------------------ signing out

    @rule(pick=PICK, htmx=st.booleans(), just_refreshed=st.booleans())
    def sign_out(self, pick: int, htmx: bool, just_refreshed: bool) -> None:
        """A browser holding a session signs out (one holding none, when there is no such one);
        `just_refreshed`: right after supertokens-web-js refreshed (a token not yet promoted)."""
        i = self._pick(pick, lambda holder: holder.handle is not None)
        if i is None:
            i = pick % BROWSERS
        browser, holder = self.browsers[i], self.model.holders[i]
        if just_refreshed and self.model.is_live(holder):
            self.sdk_refresh(i)
        before = browser.tokens()
        self._note(self._label(i), "sign out by " + ("htmx" if htmx else "form"))
        if htmx:
            result = browser.htmx("POST", "/logout", "/dashboard")
            if result.status != 200 or result.hx_redirect != "/login" or result.navigation is None:
                raise self._fail(i, "htmx sign-out did not redirect to sign in", result.describe())
            visit = result.navigation
            described = result.describe()
        else:
            visit = browser.navigate("/logout", "POST", {})
            described = visit.describe()
        after = browser.tokens()
        if after.any:
            raise self._fail(
                i,
                "signed out, but the jar still holds "
                + ", ".join(n for n, v in ((ACCESS, after.access), (REFRESH, after.refresh)) if v),
                described,
            )
        if visit.status != 200 or visit.path != "/login":
            raise self._fail(i, "sign-out did not land on the sign-in page", described)
        if holder.handle is not None:
            self.model.revoke({holder.handle})
        holder.clear()
        # What the jar held before verifies nowhere that asks the core.
        if before.access is not None:
            old = raw_request(self.stack, self.checks, "GET", "/sessions", {ACCESS: before.access})
            if old.status_code == 200:
                raise self._fail(i, "the signed-out access token still renders /sessions")
        if before.refresh is not None:
            old = replay_refresh(self.stack, self.checks, before.refresh)
            if old.status_code != 401:
                raise self._fail(i, f"the signed-out refresh token refreshed ({old.status_code})")

    @rule(pick=PICK, session=PICK, htmx=st.booleans())
    def sign_out_another_session(self, pick: int, session: int, htmx: bool) -> None:
        i = self._pick(pick, self._has_others)
        if i is None:
            return
        browser, holder = self.browsers[i], self.model.holders[i]
        assert holder.account is not None
        others = sorted(self.model.handles_of(holder.account) - {holder.handle})
        target = others[session % len(others)]
        label = self._label(i)
        if htmx:
            self.render_page(i, "/sessions")
            fresh = freshness(browser.tokens())
            result = browser.htmx("DELETE", f"/sessions/{target}", "/sessions")
            done = self._htmx_action(i, result, fresh, "/sessions")
            body = result.response.text
        else:
            self._fresh_page(i, "/sessions")
            visit = browser.navigate(f"/sessions/{target}/revoke", "POST", {}, "/sessions")
            if visit.status != 200 or visit.path != f"/sessions/{target}/revoke":
                raise self._fail(i, "revoking a session did not answer the page", visit.describe())
            done, body = True, visit.text
        self._note(label, f"sign out another session by {'htmx' if htmx else 'form'}: {done=}")
        if not done:
            return
        if "Signed out 1 session." not in body:
            raise self._fail(i, "no notice after revoking a session", body[:600])
        self.model.revoke({target})
        self._check_listing(i, body)

    @rule(pick=PICK, htmx=st.booleans())
    def sign_out_all_others(self, pick: int, htmx: bool) -> None:
        i = self._pick(pick, self._live)
        if i is None:
            return
        browser, holder = self.browsers[i], self.model.holders[i]
        assert holder.account is not None
        others = self.model.handles_of(holder.account) - {holder.handle}
        label = self._label(i)
        if htmx:
            self.render_page(i, "/sessions")
            fresh = freshness(browser.tokens())
            result = browser.htmx("DELETE", "/sessions", "/sessions")
            done = self._htmx_action(i, result, fresh, "/sessions")
            body = result.response.text
        else:
            self._fresh_page(i, "/sessions")
            visit = browser.navigate("/sessions/revoke-others", "POST", {}, "/sessions")
            if visit.status != 200 or visit.path != "/sessions/revoke-others":
                raise self._fail(
                    i, "signing out the others did not answer the page", visit.describe()
                )
            done, body = True, visit.text
        self._note(label, f"sign out {len(others)} others by {'htmx' if htmx else 'form'}: {done=}")
        if not done:
            return
        if other_sessions_text(len(others)) not in body:
            raise self._fail(i, f"expected {other_sessions_text(len(others))!r}", body[:800])
        self.model.revoke(others)
        self._check_listing(i, body)

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

    # ------------------------------------------------------------------ passwords

    @rule(pick=PICK, htmx=st.booleans())
    def change_password(self, pick: int, htmx: bool) -> None:
        i = self._pick(pick, self._live)
        if i is None:
            return
        browser, holder = self.browsers[i], self.model.holders[i]
        account = holder.account
        assert account is not None
        password = new_password()
        fields = {"current_password": account.password, "new_password": password}
        others = self.model.handles_of(account) - {holder.handle}
        label = self._label(i)
        if htmx:
            self.render_page(i, "/account")
            fresh = freshness(browser.tokens())
            result = browser.htmx("POST", "/account/password", "/account", fields)
            if not self._htmx_action(i, result, fresh, "/account"):
                self._note(label, "change the password by htmx: done=False")
                return
            body = result.response.text
        else:
            self._fresh_page(i, "/account")
            visit = browser.navigate("/account/password", "POST", fields, "/account")
            if visit.status != 200 or visit.path != "/account/password":
                raise self._fail(
                    i, "changing the password did not answer the page", visit.describe()
                )
            body = visit.text
        if "Password changed." not in body or password_changed_text(len(others)) not in body:
            raise self._fail(i, f"expected {password_changed_text(len(others))!r}", body[:800])
        self._note(label, f"change the password by {'htmx' if htmx else 'form'}: done=True")
        account.stale_passwords.append(account.password)
        account.password = password
        self.model.revoke(others)

    @rule(i=BROWSER, pick=PICK, htmx=st.booleans())
    def reset_password(self, i: int, pick: int, htmx: bool) -> None:
        browser, holder = self.browsers[i], self.model.holders[i]
        account = self._account(pick)
        sent_before = len(self.stack.reset_links(account.email))
        visit = browser.navigate("/forgot-password", "POST", {"email": account.email})
        if visit.status != 200 or "If an account exists" not in visit.text:
            raise self._fail(i, "forgot-password did not confirm", visit.describe())
        links = self.stack.reset_links(account.email)
        if len(links) != sent_before + 1:
            raise self._fail(i, f"{len(links) - sent_before} reset emails for one request")
        link = urlsplit(links[-1])
        if f"{link.scheme}://{link.netloc}" != self.stack.url or link.path != "/reset-password":
            raise self._fail(i, f"the reset link {links[-1]!r} is not this site's reset page")
        page = f"{link.path}?{link.query}"
        visit = browser.navigate(page)
        found = re.search(r'name="token" value="([^"]*)"', visit.text)
        if visit.status != 200 or found is None:
            raise self._fail(i, "the reset page has no form", visit.describe())
        token = html.unescape(found.group(1))
        password = new_password()
        fields = {"token": token, "password": password, "password_confirm": password}
        tokens, label = browser.tokens(), self._label(i)
        fresh = freshness(tokens)
        if htmx:
            result = browser.htmx("POST", "/reset-password", page, fields)
            status, body, described = result.status, result.response.text, result.describe()
        else:
            visit = browser.navigate("/reset-password", "POST", fields)
            status, body, described = visit.status, visit.text, visit.describe()
        if status != 200 or "signed out everywhere" not in body:
            raise self._fail(i, "the password reset failed", described + "\n" + body[:600])
        # This browser is signed out here too if it held the account's session and it verified.
        after = browser.tokens()
        keeps = {holder.handle is not None}  # whether the jar still holds its session
        if holder.account is account and holder.handle is not None:
            verifies = self.model.is_live(holder) or not awaits_promotion(tokens)
            if fresh is Freshness.FRESH and verifies:
                keeps = {False}
            elif fresh is Freshness.EDGE and verifies:
                keeps = {True, False}
        if after.any not in keeps or (after.any and after.handle != holder.handle):
            raise self._fail(
                i,
                f"after the reset the jar holds {after.handle} ({fresh.value} token before)",
                described,
            )
        whose = "own" if holder.account is account else "other"
        self._note(label, f"reset the password ({whose} account): jar kept={after.any}")
        self.model.revoke(self.model.handles_of(account))
        if not after.any:
            holder.clear()
        account.stale_passwords.append(account.password)
        account.password = password
        again = browser.navigate("/reset-password", "POST", fields)
        if again.status != 422 or "invalid, has expired or was already used" not in again.text:
            raise self._fail(i, "a reset link worked twice", again.describe())

    # ------------------------------------------------------------------ theft

    @rule(pick=PICK, via_hop=st.booleans())
    def replay_old_refresh_token(self, pick: int, via_hop: bool) -> None:
        """Keep a refresh token, rotate three times (two generations past), replay it."""
        i = self._pick(pick, self._live)
        if i is None:
            return
        browser, holder = self.browsers[i], self.model.holders[i]
        stolen = browser.tokens().refresh
        assert stolen is not None and holder.handle is not None
        self._note(
            self._label(i),
            "replay a refresh token 2 generations old via " + ("the hop" if via_hop else "the SDK"),
        )
        for _ in range(3):
            response = browser.sdk_refresh()
            if response.status_code != 200:
                raise self._fail(i, f"a rotation answered {response.status_code}", response.text)
        if via_hop:
            response = raw_request(
                self.stack, self.checks, "GET", REFRESH_TO_DASHBOARD, {REFRESH: stolen}
            )
            if (
                response.status_code != 303
                or response.headers.get("Location") != LOGIN_TO_DASHBOARD
            ):
                raise self._fail(i, "a replayed refresh token was not refused by the hop")
        else:
            response = replay_refresh(self.stack, self.checks, stolen)
            if response.status_code != 401 or "token theft detected" not in response.text:
                raise self._fail(
                    i, f"a replayed refresh token: {response.status_code} {response.text}"
                )
        self.model.revoke({holder.handle})

    # ------------------------------------------------------------------ the core down

    @precondition(lambda self: self.restarts < MAX_RESTARTS)
    @rule()
    def restart_core(self) -> None:
        """Stop the core, use every browser (503 at most, nobody signed out), start it again."""
        self.restarts += 1
        before = [browser.tokens() for browser in self.browsers]
        for i in range(BROWSERS):
            self._note(self._label(i), "core down and up")
        with allowing_503(self.checks):
            self.stack.stop_core()
            try:
                for i, browser in enumerate(self.browsers):
                    self._while_core_down(i, browser, before[i])
            finally:
                self.stack.start_core()
        self.stack.new_log_text()  # the outage's tracebacks ("could not reach the core")
        for i in self._indices(self._live):
            self._expect_page(
                i, self.browsers[i].navigate("/sessions"), "/sessions", {Outcome.RENDERED}
            )

    def _while_core_down(self, i: int, browser: Browser, before: Tokens) -> None:
        holder = self.model.holders[i]
        signed_out = holder.handle is None
        visit = browser.navigate("/dashboard")
        allowed = {Outcome.LOGIN} if signed_out else {Outcome.RENDERED, Outcome.UNAVAILABLE}
        self._expect_page(i, visit, "/dashboard", allowed)
        fragment = self._fragment_kind(
            browser.htmx("GET", "/dashboard/session", "/dashboard"), holder
        )
        if fragment not in (
            {"login"} if signed_out else {"card", "unavailable", "refresh-unavailable"}
        ):
            raise self._fail(i, f"with the core down the fragment ended {fragment}")
        if not signed_out:
            visit = browser.navigate("/sessions")
            self._expect_page(i, visit, "/sessions", {Outcome.UNAVAILABLE})
            response = browser.sdk_refresh()
            if response.status_code != 503:
                raise self._fail(
                    i, f"with the core down the SDK refresh answered {response.status_code}"
                )
        if browser.tokens() != before:
            raise self._fail(i, "the jar changed while the core was down", visit.describe())

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
