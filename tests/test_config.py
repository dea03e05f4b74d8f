"""Settings: environment parsing, safe defaults, and each unsafe combination refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, Settings

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "WEBSITE_DOMAIN": "https://app.example.com",
    "API_DOMAIN": "https://app.example.com",
    "SUPERTOKENS_CONNECTION_URI": "https://core.example.com",
    "SUPERTOKENS_API_KEY": "key",
}


def test_defaults_are_local_and_safe() -> None:
    settings = Settings.from_env({})

    assert settings.connection_uri == "http://127.0.0.1:3567"
    assert settings.api_key is None
    assert settings.website_domain == settings.api_domain == "http://localhost:8000"
    assert settings.api_base_path == "/auth"
    assert settings.cookie_domain is None
    assert settings.older_cookie_domain is None
    assert settings.cookie_secure is False
    assert settings.cookie_same_site == "lax"
    assert settings.anti_csrf == "NONE"
    assert settings.serve_auth_api is True
    assert settings.core_timeout == 5.0
    assert settings.email_sink == Path("var/emails.jsonl")
    assert settings.trusted_proxy_hops == 0
    assert settings.app_env == "development"
    assert len(settings.secret_key) >= 32


def test_secret_key_is_random_per_process_in_development() -> None:
    assert Settings.from_env({}).secret_key != Settings.from_env({}).secret_key


def test_secret_key_not_in_repr() -> None:
    settings = Settings.from_env({"SECRET_KEY": "very-secret-value"})

    assert "very-secret-value" not in repr(settings)


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "SUPERTOKENS_CONNECTION_URI": "http://127.0.0.1:4000/appid-x",
            "SUPERTOKENS_API_KEY": "key",
            "WEBSITE_DOMAIN": "https://app.example.test",
            "API_DOMAIN": "https://api.example.test",
            "API_BASE_PATH": "/api/auth",
            "COOKIE_DOMAIN": ".example.test",
            "OLDER_COOKIE_DOMAIN": "app.example.test",
            "COOKIE_SAME_SITE": "strict",
            "ANTI_CSRF": "via_custom_header",
            "SERVE_AUTH_API": "off",
            "APP_NAME": "Demo",
            "CORE_TIMEOUT": "2.5",
            "EMAIL_SINK": "/tmp/mail.jsonl",
            "TRUST_PROXY_HEADERS": "2",
            "SECRET_KEY": "k" * 32,
        }
    )

    assert settings == Settings(
        connection_uri="http://127.0.0.1:4000/appid-x",
        api_key="key",
        website_domain="https://app.example.test",
        api_domain="https://api.example.test",
        api_base_path="/api/auth",
        cookie_domain=".example.test",
        older_cookie_domain="app.example.test",
        cookie_secure=True,
        cookie_same_site="strict",
        anti_csrf="VIA_CUSTOM_HEADER",
        serve_auth_api=False,
        app_name="Demo",
        core_timeout=2.5,
        email_sink=Path("/tmp/mail.jsonl"),
        trusted_proxy_hops=2,
        secret_key="k" * 32,
    )


@pytest.mark.parametrize(
    ("api_domain", "expected"),
    [("http://localhost:8000", False), ("https://api.example.com", True)],
)
def test_cookie_secure_derived_from_api_scheme(api_domain: str, expected: bool) -> None:
    settings = Settings.from_env({"API_DOMAIN": api_domain, "WEBSITE_DOMAIN": api_domain})

    assert settings.cookie_secure is expected


def test_cookie_secure_explicit_override() -> None:
    assert Settings.from_env({"COOKIE_SECURE": "true"}).cookie_secure is True


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_env({"API_BASE_PATH": "", "COOKIE_DOMAIN": " "})
    assert settings.api_base_path == "/auth"
    assert settings.cookie_domain is None


def test_production_settings_accepted() -> None:
    settings = Settings.from_env(PRODUCTION)

    assert settings.is_production
    assert settings.cookie_secure is True


def test_production_loopback_core_needs_no_api_key() -> None:
    environ = {**PRODUCTION, "SUPERTOKENS_CONNECTION_URI": "http://127.0.0.1:3567"}
    del environ["SUPERTOKENS_API_KEY"]

    assert Settings.from_env(environ).api_key is None


UNSAFE_DEVELOPMENT = [
    pytest.param({"WEBSITE_DOMAIN": "https://app.example.com"}, "Secure", id="https-site-http-api"),
    pytest.param(
        {"WEBSITE_DOMAIN": "https://app.example.com", "COOKIE_SECURE": "0"},
        "Secure",
        id="https-site-insecure-cookies",
    ),
    pytest.param({"COOKIE_DOMAIN": "127.0.0.1"}, "IP address", id="cookie-domain-ip"),
    pytest.param({"COOKIE_DOMAIN": "[::1]"}, "COOKIE_DOMAIN", id="cookie-domain-ipv6"),
    pytest.param({"COOKIE_DOMAIN": ".localhost"}, "localhost", id="cookie-domain-dot-localhost"),
    pytest.param({"COOKIE_DOMAIN": "localhost"}, "localhost", id="cookie-domain-localhost"),
    pytest.param(
        {"COOKIE_DOMAIN": "app.localhost", "WEBSITE_DOMAIN": "http://app.localhost"},
        "localhost",
        id="cookie-domain-sub-localhost",
    ),
    pytest.param({"COOKIE_DOMAIN": "http://example.com"}, "COOKIE_DOMAIN", id="cookie-domain-url"),
    pytest.param({"COOKIE_DOMAIN": ".com"}, "top-level", id="cookie-domain-tld"),
    pytest.param(
        {"COOKIE_DOMAIN": ".example.com"}, "does not cover", id="cookie-domain-misses-site"
    ),
    pytest.param({"OLDER_COOKIE_DOMAIN": "10.0.0.1"}, "OLDER_COOKIE_DOMAIN", id="older-domain-ip"),
    pytest.param({"WEBSITE_DOMAIN": "localhost:8000"}, "WEBSITE_DOMAIN", id="site-no-scheme"),
    pytest.param({"WEBSITE_DOMAIN": "ftp://example.com"}, "WEBSITE_DOMAIN", id="site-ftp"),
    pytest.param({"WEBSITE_DOMAIN": "http://"}, "WEBSITE_DOMAIN", id="site-no-host"),
    pytest.param({"WEBSITE_DOMAIN": "http://localhost/app"}, "bare origin", id="site-path"),
    pytest.param({"API_DOMAIN": "http://u:p@localhost"}, "bare origin", id="api-credentials"),
    pytest.param({"API_DOMAIN": "http://localhost:99999"}, "port", id="api-bad-port"),
    pytest.param(
        {"SUPERTOKENS_CONNECTION_URI": "127.0.0.1:3567"}, "CONNECTION_URI", id="core-no-scheme"
    ),
    pytest.param({"SUPERTOKENS_CONNECTION_URI": ";"}, "empty", id="core-empty"),
    pytest.param({"API_BASE_PATH": "auth"}, "API_BASE_PATH", id="base-path-relative"),
    pytest.param({"CORE_TIMEOUT": "soon"}, "CORE_TIMEOUT", id="timeout-not-number"),
    pytest.param({"CORE_TIMEOUT": "0"}, "CORE_TIMEOUT", id="timeout-zero"),
    pytest.param({"SERVE_AUTH_API": "maybe"}, "SERVE_AUTH_API", id="bool-garbage"),
    pytest.param({"TRUST_PROXY_HEADERS": "yes"}, "TRUST_PROXY_HEADERS", id="proxy-hops-word"),
    pytest.param({"TRUST_PROXY_HEADERS": "1.5"}, "TRUST_PROXY_HEADERS", id="proxy-hops-fraction"),
    pytest.param({"TRUST_PROXY_HEADERS": "-1"}, "TRUST_PROXY_HEADERS", id="proxy-hops-negative"),
    pytest.param({"TRUST_PROXY_HEADERS": "11"}, "TRUST_PROXY_HEADERS", id="proxy-hops-too-many"),
    pytest.param({"APP_ENV": "staging"}, "APP_ENV", id="unknown-env"),
    pytest.param({"ANTI_CSRF": "VIA_TOKEN"}, "ANTI_CSRF", id="anti-csrf-unsupported"),
    pytest.param({"COOKIE_SAME_SITE": "none"}, "Secure", id="samesite-none-insecure"),
    pytest.param(
        {
            "COOKIE_SAME_SITE": "none",
            "WEBSITE_DOMAIN": "https://app.example.com",
            "API_DOMAIN": "https://api.example.com",
        },
        "ANTI_CSRF",
        id="samesite-none-without-csrf",
    ),
]


@pytest.mark.parametrize(("environ", "message"), UNSAFE_DEVELOPMENT)
def test_unsafe_settings_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


UNSAFE_PRODUCTION = [
    pytest.param({"SECRET_KEY": ""}, "SECRET_KEY", id="no-secret-key"),
    pytest.param({"WEBSITE_DOMAIN": "http://app.example.com"}, "https", id="http-site"),
    pytest.param(
        {"API_DOMAIN": "http://app.example.com", "COOKIE_SECURE": "1"}, "https", id="http-api"
    ),
    pytest.param({"SUPERTOKENS_API_KEY": ""}, "API_KEY", id="remote-core-no-key"),
    pytest.param(
        {
            "SUPERTOKENS_CONNECTION_URI": "http://127.0.0.1:3567;https://core.example.com",
            "SUPERTOKENS_API_KEY": "",
        },
        "API_KEY",
        id="one-remote-core-no-key",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), UNSAFE_PRODUCTION)
def test_unsafe_production_settings_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**PRODUCTION, **overrides})


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ConfigError, match="COOKIE_DOMAIN"):
        Settings(cookie_domain="127.0.0.1")


def test_sub_domain_cookie_domain_accepted() -> None:
    settings = Settings(
        website_domain="http://app.example.test:8001",
        api_domain="http://api.example.test:8002",
        cookie_domain=".example.test",
    )

    assert settings.cookie_domain == ".example.test"
