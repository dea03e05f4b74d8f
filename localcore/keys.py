"""Per-app RSA signing keys: dynamic keys rotated on a schedule, one static key, and the JWKS.

A dynamic key (``kid`` = ``d-<createdAtMs>``) signs new access tokens from its creation until
``retired_at`` = creation + ``access_token_dynamic_signing_key_update_interval``; the first token
needed after that creates the next key. A retired key stays in the JWKS, and keeps verifying,
until ``retired_at + access_token_validity``: by then every token it signed has expired. After
that it is deleted. The static key (``kid`` = ``s-<uuid>``, used when the SDK sets
``use_dynamic_access_token_signing_key=False``) never retires.

Keys are persisted as PEM and cached in memory per app. Generating a key takes ~0.1 s, so it
runs in a worker thread under a per-app lock.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from localcore.clock import now_ms
from localcore.config import CoreConfig
from localcore.errors import BadRequestError
from localcore.storage import Database


def _base64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    created_at: int
    retired_at: int | None  # None for the static key
    public_key: rsa.RSAPublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_key", self.private_key.public_key())

    @property
    def is_dynamic(self) -> bool:
        return self.retired_at is not None

    def is_published(self, now: int, config: CoreConfig) -> bool:
        return self.retired_at is None or self.retired_at + config.access_token_validity_ms > now

    def jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "n": _base64url_uint(numbers.n),
            "e": _base64url_uint(numbers.e),
            "alg": "RS256",
            "use": "sig",
        }


def _generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class _AppKeys:
    keys: list[SigningKey]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class KeyStore:
    """Signing keys of every app, loaded from the database on first use."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._apps: dict[str, _AppKeys] = {}

    def _app_keys(self, app_id: str) -> _AppKeys:
        app_keys = self._apps.get(app_id)
        if app_keys is None:
            rows = self._database.all(
                "SELECT kid, private_key_pem, created_at, retired_at FROM signing_keys"
                " WHERE app_id = ? ORDER BY created_at",
                (app_id,),
            )
            keys = []
            for row in rows:
                private_key = serialization.load_pem_private_key(row["private_key_pem"], None)
                assert isinstance(private_key, rsa.RSAPrivateKey)
                keys.append(
                    SigningKey(row["kid"], private_key, row["created_at"], row["retired_at"])
                )
            app_keys = self._apps[app_id] = _AppKeys(keys)
        return app_keys

    def forget(self, app_id: str) -> None:
        """Drop the cached keys of an app (after it was removed)."""
        self._apps.pop(app_id, None)

    def _current(self, app_id: str, dynamic: bool, now: int) -> SigningKey | None:
        for key in reversed(self._app_keys(app_id).keys):
            if dynamic and key.retired_at is not None and key.retired_at > now:
                return key
            if not dynamic and key.retired_at is None:
                return key
        return None

    async def signing_key(self, app_id: str, config: CoreConfig, *, dynamic: bool) -> SigningKey:
        """The key that signs new access tokens now, created (and old ones pruned) if due."""
        now = now_ms()
        key = self._current(app_id, dynamic, now)
        if key is not None:
            return key
        app_keys = self._app_keys(app_id)
        async with app_keys.lock:
            now = now_ms()
            key = self._current(app_id, dynamic, now)
            if key is not None:
                return key
            private_key = await asyncio.to_thread(_generate_private_key)
            now = now_ms()
            if dynamic:
                created_at = max(now, *(k.created_at + 1 for k in app_keys.keys), 0)
                key = SigningKey(
                    f"d-{created_at}",
                    private_key,
                    created_at,
                    created_at + max(config.signing_key_interval_ms, 1),
                )
            else:
                key = SigningKey(f"s-{uuid.uuid4()}", private_key, now, None)
            if self._apps.get(app_id) is not app_keys:
                raise BadRequestError(f"AppId or tenantId not found => {app_id}")
            pem = private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            expired = [k for k in app_keys.keys if not k.is_published(now, config)]
            with self._database.transaction():
                self._database.execute(
                    "INSERT INTO signing_keys"
                    " (app_id, kid, private_key_pem, created_at, retired_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (app_id, key.kid, pem, key.created_at, key.retired_at),
                )
                for old in expired:
                    self._database.execute(
                        "DELETE FROM signing_keys WHERE app_id = ? AND kid = ?", (app_id, old.kid)
                    )
            app_keys.keys = [k for k in app_keys.keys if k not in expired] + [key]
            return key

    def verification_key(self, app_id: str, kid: str, config: CoreConfig) -> SigningKey | None:
        """The published key with this kid, if any."""
        now = now_ms()
        for key in self._app_keys(app_id).keys:
            if key.kid == kid and key.is_published(now, config):
                return key
        return None

    def jwks(self, app_id: str, config: CoreConfig) -> list[dict[str, str]]:
        """Every published key of the app, newest first."""
        now = now_ms()
        keys = self._app_keys(app_id).keys
        return [key.jwk() for key in reversed(keys) if key.is_published(now, config)]
