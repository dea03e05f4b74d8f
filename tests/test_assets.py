"""Front-end assets, checked as files: npm pins, vendored copies, templates, no CDN, load order.

No server runs here. The vendoring tests need `npm ci` to have run (scripts/setup does it).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader
from jinja2_fragments import render_block

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

needs_node_modules = pytest.mark.skipif(
    not (NODE_MODULES / "htmx.org").is_dir(), reason="node_modules missing: run scripts/setup"
)


def _load_vendor_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vendor_assets", ROOT / "scripts/vendor_assets.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


vendor_assets = _load_vendor_module()


# --- npm pins ------------------------------------------------------------------------------


def test_package_json_pins_htmx_2_and_web_js_0_16() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["private"] is True
    deps = package["dependencies"]
    # htmx.org's `latest` is 4.x, which swaps error responses and has no history cache.
    assert re.fullmatch(r"[~^]?2(\.0(\.\d+)?)?", deps["htmx.org"])
    assert re.fullmatch(r"~?0\.16(\.\d+)?", deps["supertokens-web-js"])


def test_lock_resolves_htmx_2_0_and_web_js_0_16() -> None:
    packages = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert packages["node_modules/htmx.org"]["version"].startswith("2.0.")
    assert packages["node_modules/supertokens-web-js"]["version"].startswith("0.16.")


# --- scripts/vendor_assets.py ----------------------------------------------------------------

EXPECTED_VENDOR_FILES = {
    # stable name -> a string its first bytes must contain
    "htmx.min.js": "var htmx=",
    "supertokens-web-js/website.js": "var supertokensWebsite;",
    "supertokens-web-js/supertokens.js": "var supertokens;",
    "supertokens-web-js/session.js": "var supertokensSession;",
    "supertokens-web-js/emailpassword.js": "var supertokensEmailPassword;",
    "supertokens-web-js/emailverification.js": "var supertokensEmailVerification;",
}


@pytest.fixture(name="vendored", scope="module")
def _vendored() -> Path:
    if not (NODE_MODULES / "htmx.org").is_dir():
        pytest.skip("node_modules missing: run scripts/setup")
    assert vendor_assets.main([]) == 0
    return VENDOR


@pytest.mark.parametrize(("name", "start"), EXPECTED_VENDOR_FILES.items())
def test_vendored_file_has_stable_name_and_expected_start(
    vendored: Path, name: str, start: str
) -> None:
    assert start in (vendored / name).read_text(encoding="utf-8")[:200]


def test_vendored_htmx_is_2_0(vendored: Path) -> None:
    assert re.search(r'version:"2\.0\.\d+"', (vendored / "htmx.min.js").read_text())


def test_vendoring_twice_changes_nothing(vendored: Path) -> None:
    assert vendor_assets.vendor_assets(NODE_MODULES, vendored, check=True) == []


@pytest.fixture(name="fake_node_modules")
def _fake_node_modules(tmp_path: Path) -> Path:
    node_modules = tmp_path / "node_modules"
    htmx = node_modules / "htmx.org"
    (htmx / "dist").mkdir(parents=True)
    (htmx / "package.json").write_text('{"version": "2.0.11"}')
    (htmx / "dist" / "htmx.min.js").write_text('var htmx={version:"2.0.11"}')
    (htmx / "LICENSE").write_text("0BSD")
    web_js = node_modules / "supertokens-web-js"
    (web_js / "bundle").mkdir(parents=True)
    (web_js / "LICENSE.md").write_text("Apache-2.0")
    for name in vendor_assets.WEB_JS_BUNDLES:
        (web_js / "bundle" / f"{name}.0123456789abcdef.js").write_text(f"var {name};")
    (web_js / "bundle" / "sessionx.fedcba9876543210.js").write_text("not the session bundle")
    return node_modules


def test_vendor_copies_then_skips_unchanged(fake_node_modules: Path, tmp_path: Path) -> None:
    dest = tmp_path / "vendor"
    first = vendor_assets.vendor_assets(fake_node_modules, dest)
    assert dest / "supertokens-web-js" / "session.js" in first
    assert (dest / "supertokens-web-js" / "session.js").read_text() == "var session;"
    assert vendor_assets.vendor_assets(fake_node_modules, dest) == []

    (fake_node_modules / "htmx.org" / "dist" / "htmx.min.js").write_text(
        'var htmx={version:"2.0.12"}'
    )
    assert vendor_assets.vendor_assets(fake_node_modules, dest) == [dest / "htmx.min.js"]


def test_vendor_fails_on_missing_bundle(fake_node_modules: Path, tmp_path: Path) -> None:
    next((fake_node_modules / "supertokens-web-js" / "bundle").glob("session.*.js")).unlink()
    with pytest.raises(vendor_assets.VendorError, match="bundle 'session' not found"):
        vendor_assets.vendor_assets(fake_node_modules, tmp_path / "vendor")


def test_vendor_fails_on_ambiguous_bundle(fake_node_modules: Path, tmp_path: Path) -> None:
    (fake_node_modules / "supertokens-web-js" / "bundle" / "website.aaaa.js").write_text("")
    with pytest.raises(vendor_assets.VendorError, match="bundle 'website' is ambiguous"):
        vendor_assets.vendor_assets(fake_node_modules, tmp_path / "vendor")


def test_vendor_refuses_htmx_4(fake_node_modules: Path, tmp_path: Path) -> None:
    (fake_node_modules / "htmx.org" / "package.json").write_text('{"version": "4.0.1"}')
    with pytest.raises(vendor_assets.VendorError, match="needs 2.x"):
        vendor_assets.vendor_assets(fake_node_modules, tmp_path / "vendor")


def test_vendor_cli_reports_missing_node_modules(tmp_path: Path, capsys: Any) -> None:
    code = vendor_assets.main(["--node-modules", str(tmp_path / "nope"), "--vendor", str(tmp_path)])
    assert code == 2
    assert "run `npm ci` first" in capsys.readouterr().err


# --- no CDN ----------------------------------------------------------------------------------

EXTERNAL_URL = re.compile(r"""https?://|(?:src|href|action)\s*=\s*["']?//""", re.IGNORECASE)
ALLOWED_URLS = re.compile(r"http://www\.w3\.org/")  # XML namespaces in inline SVG


def _own_front_end_files() -> Iterator[Path]:
    yield from (ROOT / "templates").rglob("*.html")
    for path in (ROOT / "static").rglob("*"):
        if path.is_file() and VENDOR not in path.parents:
            yield path


@pytest.mark.parametrize(
    "path", sorted(_own_front_end_files()), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_external_urls(path: Path) -> None:
    text = ALLOWED_URLS.sub("", path.read_text(encoding="utf-8"))
    assert not EXTERNAL_URL.search(text), f"{path.relative_to(ROOT)} references an external URL"


# --- templates -------------------------------------------------------------------------------


@pytest.fixture(name="jinja", scope="module")
def _jinja() -> Environment:
    """A plain (sync) Jinja environment standing in for Quart's: same loader, autoescape on."""
    env = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=True)
    env.globals["url_for"] = lambda endpoint, filename: f"/{endpoint}/{filename}"
    return env


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.meta: dict[str, str] = {}
        self.forms: list[dict[str, str | None]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes.get("src") or "")
        elif tag == "meta" and attributes.get("name"):
            self.meta[attributes["name"] or ""] = attributes.get("content") or ""
        elif tag == "form":
            self.forms.append(attributes)
        elif tag == "a":
            self.links.append(attributes.get("href") or "")


def _render_page(jinja: Environment, template: str = "base.html", **context: Any) -> _PageParser:
    context = {"current_user": None, "is_admin": False, **context}
    parser = _PageParser()
    parser.feed(jinja.get_template(template).render(**context))
    return parser


USER = SimpleNamespace(user_id="u1", email="ada@example.com", display_name="Ada")


def test_base_loads_web_js_then_app_then_htmx(jinja: Environment) -> None:
    assert _render_page(jinja).scripts == [
        "/static/vendor/supertokens-web-js/website.js",
        "/static/vendor/supertokens-web-js/supertokens.js",
        "/static/vendor/supertokens-web-js/session.js",
        "/static/js/app.js",
        "/static/vendor/htmx.min.js",
    ]


@needs_node_modules
def test_htmx_config_uses_htmx_2_0_names(jinja: Environment) -> None:
    config = json.loads(_render_page(jinja).meta["htmx-config"])
    htmx_source = (NODE_MODULES / "htmx.org" / "dist" / "htmx.js").read_text()
    for key in config:
        assert re.search(rf"^\s+{key}:", htmx_source, re.MULTILINE), f"unknown htmx config {key}"
    assert config["historyCacheSize"] == 0
    assert config["refreshOnHistoryMiss"] is True
    assert config["historyRestoreAsHxRequest"] is False
    assert config["allowScriptTags"] is False


def test_signed_out_nav_offers_sign_in_and_sign_up(jinja: Environment) -> None:
    page = _render_page(jinja)
    assert {"/login", "/signup"} <= set(page.links)
    assert "/dashboard" not in page.links
    assert page.forms == []


@pytest.mark.parametrize("is_admin", [False, True])
def test_signed_in_nav_links_and_post_sign_out(jinja: Environment, is_admin: bool) -> None:
    page = _render_page(jinja, current_user=USER, is_admin=is_admin)
    assert {"/dashboard", "/account", "/sessions"} <= set(page.links)
    assert ("/admin" in page.links) is is_admin
    assert "/login" not in page.links
    assert page.forms == [{"method": "post", "action": "/logout", "class": "inline-form"}]


def test_base_escapes_user_values_and_adds_nonce(jinja: Environment) -> None:
    user = SimpleNamespace(user_id="u1", email="a@example.com", display_name="<script>x</script>")
    html = jinja.get_template("base.html").render(
        current_user=user, is_admin=False, csp_nonce="n0nce"
    )
    assert "<script>x</script>" not in html
    assert html.count('nonce="n0nce"') == 5


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"status": 403, "claim": "st-ev"}, ["Error 403", "st-ev", "/verify-email"]),
        ({"status": 404}, ["Error 404", "Not found"]),
        ({"status": 500}, ["Error 500", "Something went wrong"]),
        ({"status": 503, "retry_url": "/dashboard"}, ["Error 503", 'href="/dashboard"']),
        ({"status": 422, "title": "Invalid", "message": "<b>"}, ["Invalid", "&lt;b&gt;"]),
    ],
)
def test_error_fragment_renders_alone(
    jinja: Environment, context: dict[str, Any], expected: list[str]
) -> None:
    html = render_block(jinja, "errors/error.html", "error_fragment", **context)
    assert html.lstrip().startswith('<section class="card error-panel"')
    assert "<html" not in html
    for text in expected:
        assert text in html


def test_error_page_wraps_the_fragment(jinja: Environment) -> None:
    html = jinja.get_template("errors/error.html").render(
        current_user=None, is_admin=False, status=404, title="Not found", message="Gone."
    )
    assert "<title>Not found" in html
    assert '<h1 id="error-404-title">Not found</h1>' in html


def test_refresh_page_marks_itself_and_has_fallbacks(jinja: Environment) -> None:
    page = _render_page(jinja, "refresh.html", redirect_back="/dashboard?tab=1")
    html = jinja.get_template("refresh.html").render(
        current_user=None, is_admin=False, redirect_back="/dashboard?tab=1"
    )
    assert 'data-page="refresh"' in html
    assert 'data-redirect-back="/dashboard?tab=1"' in html
    assert "/auth/session/refresh?redirectBack=/dashboard%3Ftab%3D1" in page.links
    assert "/login?redirectBack=/dashboard%3Ftab%3D1" in page.links


# --- app.js mirrors the server's redirectBack rule -------------------------------------------

_NODE_HARNESS = """
globalThis.window = globalThis;
globalThis.location = {origin: "http://localhost:8000", search: ""};
globalThis.document = {body: {dataset: {apiBasePath: "/auth"}}, title: "", readyState: "complete",
  addEventListener() {}, querySelector() { return null; }, cookie: ""};
console.warn = () => {};
eval(require("fs").readFileSync(process.argv[1], "utf8"));
const values = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(values.map((v) => window.appAuth.safeRedirectBack(v))));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_app_js_safe_redirect_back_matches_server() -> None:
    from tests.hostile_urls import HOSTILE_REDIRECT_BACK
    from tests.hostile_urls import app_safe_redirect_back as safe_redirect_back

    values = [
        *HOSTILE_REDIRECT_BACK,
        "/",
        "/dashboard",
        "/dashboard?tab=sessions&x=1",
        "/a%20b",
        "/a%zz",
        "/%2F%C3x",
        "/caf%C3%A9",
        "/logins",
        "/authors",
        "/login/",
        "/auth",
        "/x%C2%85",
    ]
    result = subprocess.run(
        ["node", "-e", _NODE_HARNESS, str(ROOT / "static/js/app.js")],
        input=json.dumps(values),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    in_browser = dict(zip(values, json.loads(result.stdout), strict=True))
    assert in_browser == {value: safe_redirect_back(value) for value in values}
