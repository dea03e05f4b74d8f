/*
 * app.js: the app's only script of its own. Plain ES2017, no build step.
 *
 * base.html loads it after the supertokens-web-js bundles and BEFORE htmx, so supertokens.init()
 * patches XMLHttpRequest before htmx sends anything. A 401 on an htmx request is then refreshed
 * and replayed in place by web-js. If that refresh fails, web-js hands htmx the refresh call's
 * own 401 (no HX-Redirect on it), so the htmx:responseError handler below sends the window to
 * the sign-in page with this page as redirectBack; a 401 that still carries HX-Redirect (web-js
 * not loaded) is followed by htmx itself before any status rule.
 *
 * htmx config lives in <meta name="htmx-config"> in base.html (htmx 2.0.x names):
 *   historyCacheSize 0          no page HTML in sessionStorage: back after sign-out must not show
 *                               a cached private page. Global, because boosted swaps keep the old
 *                               <body> attributes, so hx-history="false" alone can go stale.
 *   refreshOnHistoryMiss true   a history miss is a real reload, which the server guard handles
 *                               like any page load (an XHR restore ignores HX-Redirect).
 *   historyRestoreAsHxRequest false   restores must get full pages, never fragments.
 *   selfRequestsOnly true       same-origin only (the default, stated on purpose).
 *   allowScriptTags false       swapped HTML never runs scripts; behaviour lives here.
 *   includeIndicatorStyles false   no injected <style> (CSP); app.css styles .htmx-indicator.
 *   responseHandling            204 no swap; 2xx swap; 422 swap as success (form with field
 *                               errors); 403/404/500/503 swap as error (the server's error
 *                               fragment replaces the target, htmx:responseError still fires);
 *                               any other 4xx/5xx (401 included) no swap, error. A 401 with
 *                               HX-Redirect never reaches these rules.
 */
(function () {
  "use strict";

  var body = document.body;
  var appName = body.dataset.appName || document.title;
  var apiBasePath = body.dataset.apiBasePath || "/auth";
  // The SDK's API is on this origin unless the server names another (API_DOMAIN).
  var apiDomain = body.dataset.apiDomain || location.origin;
  var refreshPath = apiBasePath.replace(/\/+$/, "") + "/session/refresh";
  var LOGIN_PATH = "/login";

  // --- redirectBack validation: the same rule as the server (app/security.py) --------------
  // Only a same-origin relative path with an optional query: one leading "/", no "//", no
  // backslash, whitespace or control character (raw or percent-encoded), no fragment, at most
  // 2048 characters, and never a page that would loop (login, signup, logout, the auth API).
  var MAX_REDIRECT_LENGTH = 2048;
  var NON_RETURNABLE_PAGES = ["/login", "/signup", "/logout"];
  var nonReturnableTree = apiBasePath.replace(/\/+$/, "") + "/";

  // Like Python's urllib.parse.unquote: each run of %XX escapes is decoded as UTF-8 with
  // invalid bytes replaced (U+FFFD), never thrown on, so "/%2F%C3x" still shows its "//".
  function lenientUnquote(value) {
    return value.replace(/(%[0-9a-f]{2})+/gi, function (run) {
      var bytes = new Uint8Array(run.length / 3);
      for (var i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.substr(i * 3 + 1, 2), 16);
      return new TextDecoder().decode(bytes);
    });
  }

  function isPlainPath(candidate, allowSpace) {
    if (candidate.charAt(0) !== "/" || candidate.charAt(1) === "/") return false;
    // Backslash, C0 controls, DEL, NEL, and any whitespace (a plain space only once decoded).
    var forbidden = allowSpace ? /[\\\u0000-\u001f\u007f\u0085]|[^\S ]/ : /[\\\u0000-\u001f\u007f\u0085\s]/;
    return !forbidden.test(candidate);
  }

  function safeRedirectBack(value) {
    if (typeof value !== "string" || !value || value.length > MAX_REDIRECT_LENGTH) return "/";
    if (!isPlainPath(value, false) || !isPlainPath(lenientUnquote(value), true)) return "/";
    if (value.indexOf("#") !== -1) return "/";
    var path = value.split("?")[0].replace(/\/+$/, "") || "/";
    if (NON_RETURNABLE_PAGES.indexOf(path) !== -1 || (path + "/").indexOf(nonReturnableTree) === 0) {
      return "/";
    }
    return value;
  }

  // --- SuperTokens ------------------------------------------------------------------------
  function initSupertokens() {
    if (!window.supertokens || !window.supertokensSession) {
      console.warn("app.js: supertokens-web-js not loaded; htmx requests will not refresh sessions");
      return false;
    }
    var sessionConfig = { sessionExpiredStatusCode: 401, invalidClaimStatusCode: 403 };
    // Split deployment (pages on www, the /auth API on api): the session cookies' shared Domain,
    // so web-js also handles 401s from this page's own host (htmx fragments), not only the API's.
    if (body.dataset.sessionTokenBackendDomain) {
      sessionConfig.sessionTokenBackendDomain = body.dataset.sessionTokenBackendDomain;
    }
    var recipeList = [window.supertokensSession.init(sessionConfig)];
    // Recipe bundles a page adds in {% block recipe_scripts %} must be in the same init call.
    if (window.supertokensEmailPassword) recipeList.push(window.supertokensEmailPassword.init());
    if (window.supertokensEmailVerification) {
      recipeList.push(window.supertokensEmailVerification.init());
    }
    try {
      window.supertokens.init({
        appInfo: { appName: appName, apiDomain: apiDomain, apiBasePath: apiBasePath },
        recipeList: recipeList,
      });
      return true;
    } catch (err) {
      console.error("app.js: supertokens.init failed", err);
      return false;
    }
  }

  var supertokensReady = initSupertokens();

  // --- htmx wiring (listeners on document work before htmx itself loads) --------------------
  // With anti_csrf VIA_CUSTOM_HEADER every non-GET needs `rid`. web-js adds it to the requests it
  // intercepts; this covers the case where web-js failed to load.
  if (body.dataset.antiCsrf === "VIA_CUSTOM_HEADER") {
    document.addEventListener("htmx:configRequest", function (event) {
      event.detail.headers.rid = "session";
    });
  }

  // Mark the swap target busy while its request is in flight (assistive tech + styling).
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target) event.detail.target.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.target) event.detail.target.removeAttribute("aria-busy");
  });

  // Errors htmx does not swap (see responseHandling above) would otherwise fail silently.
  function showNotice(message, kind) {
    var notices = document.getElementById("notices");
    if (!notices) return;
    var notice = notices.querySelector("[data-client-notice]") || document.createElement("p");
    notice.setAttribute("data-client-notice", "");
    notice.className = "notice notice-" + (kind || "error");
    notice.textContent = message;
    notices.appendChild(notice);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if ([403, 404, 500, 503].indexOf(status) !== -1) return; // the error fragment was swapped in
    if (status === 401) {
      // The session could not be refreshed: sign in again and come back here.
      var back = safeRedirectBack(location.pathname + location.search);
      location.assign(back === "/" ? "/login" : "/login?redirectBack=" + encodeURIComponent(back));
    } else {
      showNotice("The request failed (" + status + "). Please try again.");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    showNotice("Could not reach the server. Check your connection and try again.");
  });
  document.addEventListener("htmx:timeout", function () {
    showNotice("The server took too long to answer. Please try again.");
  });

  // --- Refresh page (templates/refresh.html) ----------------------------------------------
  // Rendered when the server saw an access token it could not accept (expired, or anti-CSRF
  // needs the custom header only JS can send). Refresh through the SDK, which serialises
  // refreshes across tabs with a lock, then go back.
  var RECENT_REFRESHES_KEY = "appAuth:recentRefreshes";

  // A page that comes straight back here after successful refreshes is a loop (e.g. duplicate
  // cookies on two domains). Allow a few quick refreshes (short test token lifetimes), not more.
  function tooManyRecentRefreshes() {
    try {
      var now = Date.now();
      var recent = JSON.parse(sessionStorage.getItem(RECENT_REFRESHES_KEY) || "[]").filter(
        function (t) { return now - t < 10000; }
      );
      recent.push(now);
      sessionStorage.setItem(RECENT_REFRESHES_KEY, JSON.stringify(recent));
      return recent.length > 3;
    } catch (err) {
      return false; // no sessionStorage: no guard
    }
  }

  function hasCookie(name) {
    return document.cookie.split(";").some(function (c) { return c.trim().indexOf(name + "=") === 0; });
  }

  async function runRefreshPage(root) {
    var back = safeRedirectBack(
      root.dataset.redirectBack || new URLSearchParams(location.search).get("redirectBack") || "/"
    );
    var loginUrl = LOGIN_PATH + "?redirectBack=" + encodeURIComponent(back);
    var status = root.querySelector("[data-refresh-status]");
    var retry = root.querySelector("[data-refresh-retry]");
    function fail(message) {
      if (status) status.textContent = message;
      root.classList.add("refresh-failed");
      if (retry) retry.focus();
    }

    if (!supertokensReady) {
      // Same route as the noscript fallback: the server refreshes the cookies itself.
      location.replace(refreshPath + "?redirectBack=" + encodeURIComponent(back));
      return;
    }
    if (tooManyRecentRefreshes()) {
      console.error("app.js: session refresh loop detected; stopping");
      fail("We could not restore your session. Try again, or sign in again.");
      return;
    }
    // The SDK skips the refresh call (returns false) when its local state says "signed out":
    // front token gone but st-last-access-token-update still set, as after a sign-out followed
    // by a full-page (non-SDK) sign-in. The server just told us a session token exists, so drop
    // that stale marker and let the SDK ask the API.
    if (!hasCookie("sFrontToken") && hasCookie("st-last-access-token-update")) {
      document.cookie = "st-last-access-token-update=;expires=Thu, 01 Jan 1970 00:00:00 GMT;path=/;samesite=lax";
    }
    try {
      if (await window.supertokensSession.attemptRefreshingSession()) {
        location.replace(back);
      } else {
        location.replace(loginUrl);
      }
    } catch (err) {
      console.error("app.js: session refresh failed", err);
      fail("Something went wrong while refreshing your session.");
    }
  }

  var refreshStarted = false;
  function maybeRunRefreshPage() {
    if (refreshStarted) return;
    var root = body.dataset.page === "refresh" ? body : null;
    root = document.querySelector("[data-session-refresh]") || root;
    if (!root) return;
    refreshStarted = true;
    runRefreshPage(root);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", maybeRunRefreshPage);
  } else {
    maybeRunRefreshPage();
  }
  // A boosted navigation swaps only <body>'s content (its data-page stays stale), so also look
  // for the refresh panel in newly loaded content.
  document.addEventListener("htmx:load", maybeRunRefreshPage);

  window.appAuth = Object.freeze({ safeRedirectBack: safeRedirectBack, showNotice: showNotice });
})();
