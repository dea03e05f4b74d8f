"""The lifecycle machine's rules for using the site: sign up and in, render pages and the htmx
session card, requests of one browser at once, letting the access token expire, and both ways of
refreshing (the server-side hop, supertokens-web-js's POST).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from tests.lifecycle.browser import jwt_payload
from tests.lifecycle.machine import (
    BROWSER,
    CONCURRENCY_TIMEOUT,
    LOGIN_TO_DASHBOARD,
    MAX_ACCOUNTS,
    MAX_EXPIRIES,
    PASSWORD,
    PICK,
    REFRESH_TO_DASHBOARD,
    LifecycleMachine,
)
from tests.lifecycle.model import (
    CHECK_DATABASE_PAGES,
    Account,
    Freshness,
    Outcome,
    awaits_promotion,
    freshness,
    renders_for,
)
from tests.lifecycle.responses import Visit, XhrResult
from tests.lifecycle.stack import ACCESS_TOKEN_VALIDITY, wait_until


class BrowsingRules(LifecycleMachine):
    """Rules: sign up, sign in, renders, concurrent requests, expiry, refreshes."""

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
