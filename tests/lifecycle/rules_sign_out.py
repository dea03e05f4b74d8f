"""The lifecycle machine's rules for ending sessions: sign out (by form or htmx, also right after
an SDK refresh), sign out another session from /sessions, sign out all the others.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from tests.lifecycle.browser import ACCESS, REFRESH, raw_request, replay_refresh
from tests.lifecycle.machine import BROWSERS, PICK, other_sessions_text
from tests.lifecycle.model import freshness
from tests.lifecycle.rules_browsing import BrowsingRules


class SignOutRules(BrowsingRules):
    """Rules: sign out, sign out another session, sign out all others."""

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
