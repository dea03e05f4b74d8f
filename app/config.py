"""Application settings, read from environment variables in this one place and checked at start-up.

Every setting has a safe default for local development (the local core on loopback, host-only lax
cookies on http://localhost:8000). `Settings.__post_init__` refuses combinations that would be
unsafe or silently broken, so a misconfigured process stops at start-up with a `ConfigError`
instead of issuing cookies a browser drops or an attacker can use.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args
from urllib.parse import urlsplit

AppEnv = Literal["development", "production"]
CookieSameSite = Literal["lax", "strict", "none"]
AntiCsrfMode = Literal["NONE", "VIA_CUSTOM_HEADER"]

LOCAL_CORE_URI = "http://127.0.0.1:3567"
LOCAL_SITE = "http://localhost:8000"

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_PROXY_HOPS = 10


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe; the message names the variable and the fix."""


def _random_secret_key() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to know about its environment."""

    connection_uri: str = LOCAL_CORE_URI
    api_key: str | None = None
    website_domain: str = LOCAL_SITE
    api_domain: str = LOCAL_SITE
    api_base_path: str = "/auth"
    cookie_domain: str | None = None
    older_cookie_domain: str | None = None
    # None means "derive from the API domain's scheme", as the SDK does.
    cookie_secure: bool | None = None
    cookie_same_site: CookieSameSite = "lax"
    anti_csrf: AntiCsrfMode = "NONE"
    serve_auth_api: bool = True
    app_name: str = "SuperTokens Quart SSR"
    core_timeout: float = 5.0
    # Absolute session lifetime from sign-in, whatever the refreshes: the guard enforces it.
    session_max_age: int = 7 * 24 * 3600
    email_sink: Path = Path("var/emails.jsonl")
    # How many reverse proxies in front of the app append X-Forwarded-For/-Proto/-Host; 0 ignores
    # those headers (the default: anyone could send them). See create_app and docs/deploy.md.
    trusted_proxy_hops: int = 0
    secret_key: str = field(default_factory=_random_secret_key, repr=False)
    app_env: AppEnv = "development"

    def __post_init__(self) -> None:
        if self.cookie_secure is None:
            object.__setattr__(self, "cookie_secure", _is_https(self.api_domain))
        _validate(self)

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def api_on_other_origin(self) -> bool:
        """The SDK's API is not on the pages' origin (a split deployment: www and api)."""
        return self.api_domain.rstrip("/").lower() != self.website_domain.rstrip("/").lower()

    @property
    def secure_cookies(self) -> bool:
        """`cookie_secure` after derivation (never None once constructed)."""
        return bool(self.cookie_secure)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings from environment variables; empty values count as unset."""

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        app_env = cast(
            AppEnv, _parse_choice("APP_ENV", (get("APP_ENV") or "development").lower(), AppEnv)
        )
        secret_key = get("SECRET_KEY")
        if secret_key is None:
            if app_env == "production":
                raise ConfigError("SECRET_KEY must be set in production (APP_ENV=production).")
            secret_key = _random_secret_key()

        cookie_secure = get("COOKIE_SECURE")
        return cls(
            connection_uri=get("SUPERTOKENS_CONNECTION_URI") or LOCAL_CORE_URI,
            api_key=get("SUPERTOKENS_API_KEY"),
            website_domain=get("WEBSITE_DOMAIN") or LOCAL_SITE,
            api_domain=get("API_DOMAIN") or LOCAL_SITE,
            api_base_path=get("API_BASE_PATH") or "/auth",
            cookie_domain=get("COOKIE_DOMAIN"),
            older_cookie_domain=get("OLDER_COOKIE_DOMAIN"),
            cookie_secure=None
            if cookie_secure is None
            else _parse_bool("COOKIE_SECURE", cookie_secure),
            cookie_same_site=cast(
                CookieSameSite,
                _parse_choice(
                    "COOKIE_SAME_SITE", (get("COOKIE_SAME_SITE") or "lax").lower(), CookieSameSite
                ),
            ),
            anti_csrf=cast(
                AntiCsrfMode,
                _parse_choice("ANTI_CSRF", (get("ANTI_CSRF") or "NONE").upper(), AntiCsrfMode),
            ),
            serve_auth_api=_parse_bool("SERVE_AUTH_API", get("SERVE_AUTH_API") or "1"),
            app_name=get("APP_NAME") or cls.app_name,
            core_timeout=_parse_seconds("CORE_TIMEOUT", get("CORE_TIMEOUT") or "5"),
            session_max_age=int(
                _parse_seconds(
                    "SESSION_MAX_AGE", get("SESSION_MAX_AGE") or str(cls.session_max_age)
                )
            ),
            email_sink=Path(get("EMAIL_SINK") or "var/emails.jsonl"),
            trusted_proxy_hops=_parse_count(
                "TRUST_PROXY_HEADERS", get("TRUST_PROXY_HEADERS") or "0"
            ),
            secret_key=secret_key,
            app_env=app_env,
        )


def _parse_bool(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def _parse_seconds(name: str, raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds.") from None
    return seconds


def _parse_count(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number.") from None


def _parse_choice(name: str, raw: str, choices: object) -> str:
    allowed: tuple[str, ...] = get_args(choices)
    if raw not in allowed:
        raise ConfigError(f"{name}={raw!r} is not one of {', '.join(allowed)}.")
    return raw


def _is_https(url: str) -> bool:
    return url.lower().startswith("https://")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return (
        host in _LOOPBACK_HOSTS
        or host.endswith(".localhost")
        or (_is_ip(host) and ipaddress.ip_address(host.strip("[]")).is_loopback)
    )


def _check_origin(name: str, url: str) -> str:
    """Validate an origin-like URL (scheme, host, optional port, nothing else); return its host."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"{name}={url!r} has an invalid port.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}={url!r} must be an http(s) URL such as https://app.example.com.")
    if (
        parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or parts.path not in ("", "/")
    ):
        raise ConfigError(f"{name}={url!r} must be a bare origin: scheme, host and port only.")
    return parts.hostname


def _check_connection_uri(uri: str) -> list[str]:
    """Validate one or more `;`-separated core URLs (a base path is allowed); return their hosts."""
    hosts: list[str] = []
    for part in filter(None, (piece.strip() for piece in uri.split(";"))):
        parts = urlsplit(part)
        try:
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise ConfigError(
                f"SUPERTOKENS_CONNECTION_URI has an invalid port: {part!r}."
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"SUPERTOKENS_CONNECTION_URI must be http(s) URLs, got {part!r}.")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ConfigError(f"SUPERTOKENS_CONNECTION_URI must not carry credentials: {part!r}.")
        hosts.append(parts.hostname)
    if not hosts:
        raise ConfigError("SUPERTOKENS_CONNECTION_URI is empty.")
    return hosts


def _check_cookie_domain(name: str, domain: str) -> str:
    """Validate a cookie Domain value; return it lower-cased without the leading dot."""
    bare = domain.strip().lower().lstrip(".")
    if not bare or any(ch in bare for ch in ":/ ;,") or bare.endswith("."):
        raise ConfigError(
            f"{name}={domain!r} must be a host name such as .example.com (no scheme or port)."
        )
    if _is_ip(bare):
        raise ConfigError(
            f"{name}={domain!r} is an IP address; browsers ignore Domain on IPs, leave it unset."
        )
    if bare == "localhost" or bare.endswith(".localhost"):
        raise ConfigError(
            f"{name}={domain!r}: browsers reject Domain=.localhost; leave it unset locally."
        )
    if "." not in bare:
        raise ConfigError(
            f"{name}={domain!r} is a top-level name; browsers reject such a cookie Domain."
        )
    return bare


def _domain_matches(host: str, cookie_domain: str) -> bool:
    host = host.lower()
    return host == cookie_domain or host.endswith("." + cookie_domain)


def _validate(settings: Settings) -> None:
    website_host = _check_origin("WEBSITE_DOMAIN", settings.website_domain)
    api_host = _check_origin("API_DOMAIN", settings.api_domain)
    core_hosts = _check_connection_uri(settings.connection_uri)

    if not settings.api_base_path.startswith("/") or "?" in settings.api_base_path:
        raise ConfigError(
            f"API_BASE_PATH={settings.api_base_path!r} must be a path starting with '/'."
        )
    if not settings.secret_key:
        raise ConfigError("SECRET_KEY must not be empty.")
    if not 0 < settings.core_timeout <= 300:
        raise ConfigError(
            f"CORE_TIMEOUT={settings.core_timeout!r} must be between 0 and 300 seconds."
        )
    if not 0 <= settings.trusted_proxy_hops <= MAX_PROXY_HOPS:
        raise ConfigError(
            f"TRUST_PROXY_HEADERS={settings.trusted_proxy_hops!r} must be the number of proxies "
            f"in front of the app, from 0 (none: ignore X-Forwarded-*) to {MAX_PROXY_HOPS}."
        )

    if settings.cookie_domain is not None:
        cookie_domain = _check_cookie_domain("COOKIE_DOMAIN", settings.cookie_domain)
        for name, host in (("WEBSITE_DOMAIN", website_host), ("API_DOMAIN", api_host)):
            if not _domain_matches(host, cookie_domain):
                raise ConfigError(
                    f"COOKIE_DOMAIN={settings.cookie_domain!r} does not cover {name} host "
                    f"{host!r}; browsers would reject the session cookies."
                )
    if settings.older_cookie_domain is not None:
        _check_cookie_domain("OLDER_COOKIE_DOMAIN", settings.older_cookie_domain)

    if _is_https(settings.website_domain) and not settings.secure_cookies:
        raise ConfigError(
            "WEBSITE_DOMAIN is https but session cookies would not be Secure: "
            "use an https API_DOMAIN or set COOKIE_SECURE=1."
        )
    if settings.cookie_same_site == "none":
        if not settings.secure_cookies:
            raise ConfigError(
                "COOKIE_SAME_SITE=none needs Secure cookies (COOKIE_SECURE=1 over https)."
            )
        if settings.anti_csrf == "NONE":
            raise ConfigError(
                "COOKIE_SAME_SITE=none with ANTI_CSRF=NONE leaves cross-site requests unprotected; "
                "set ANTI_CSRF=VIA_CUSTOM_HEADER."
            )

    if settings.is_production:
        if not _is_https(settings.website_domain) or not _is_https(settings.api_domain):
            raise ConfigError("WEBSITE_DOMAIN and API_DOMAIN must be https in production.")
        if settings.api_key is None and not all(_is_loopback(host) for host in core_hosts):
            raise ConfigError(
                "SUPERTOKENS_API_KEY must be set in production when the core is not on loopback."
            )
