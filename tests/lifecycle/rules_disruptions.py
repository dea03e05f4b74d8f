"""The lifecycle machine's rules that end sessions from outside the browser: change the password,
reset it with the emailed link, replay a refresh token two generations old (theft), and stop and
restart the core (503 at most while it is down, nobody signed out).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from tests.lifecycle.browser import REFRESH, Browser, Tokens, raw_request, replay_refresh
from tests.lifecycle.machine import (
    BROWSER,
    BROWSERS,
    LOGIN_TO_DASHBOARD,
    MAX_RESTARTS,
    PICK,
    REFRESH_TO_DASHBOARD,
    new_password,
    password_changed_text,
)
from tests.lifecycle.model import Freshness, Outcome, awaits_promotion, freshness
from tests.lifecycle.responses import allowing_503
from tests.lifecycle.rules_browsing import BrowsingRules


class DisruptionRules(BrowsingRules):
    """Rules: change and reset the password, replay an old refresh token, restart the core."""

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
