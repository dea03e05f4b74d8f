"""Core config: the defaults of the official core, the process-wide base, and per-app overrides.

An app's effective config is built in three layers, like the official core's ``config.yaml`` plus
``coreConfig``: the built-in defaults, then the values given on the command line (they apply to
every app, the public app included), then the ``coreConfig`` stored with the app at creation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from localcore.errors import BadRequestError


@dataclass(frozen=True)
class CoreConfig:
    """The settings the local core honours, in the units of the official core's config."""

    access_token_validity: int = 3600  # seconds
    refresh_token_validity: float = 144000  # minutes
    access_token_dynamic_signing_key_update_interval: float = 168  # hours
    password_reset_token_lifetime: int = 3_600_000  # ms
    email_verification_token_lifetime: int = 86_400_000  # ms

    @property
    def access_token_validity_ms(self) -> int:
        return self.access_token_validity * 1000

    @property
    def refresh_token_validity_ms(self) -> int:
        return int(self.refresh_token_validity * 60_000)

    @property
    def signing_key_interval_ms(self) -> int:
        return int(self.access_token_dynamic_signing_key_update_interval * 3_600_000)

    def merged(self, overrides: Mapping[str, Any]) -> CoreConfig:
        """This config with the known keys of ``overrides`` applied; unknown keys are ignored."""
        changes: dict[str, Any] = {
            name: _PARSERS[name](name, value)
            for name, value in overrides.items()
            if name in _PARSERS and value is not None
        }
        return replace(self, **changes)


def _number(name: str, value: Any) -> float:
    """A positive finite number; SDK test utilities send numbers as strings ("2")."""
    if isinstance(value, bool):
        raise BadRequestError(f"'{name}' must be a number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise BadRequestError(f"'{name}' must be a number") from None
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise BadRequestError(f"'{name}' must be a positive number")
    return float(value)


def _whole_number(name: str, value: Any) -> int:
    number = _number(name, value)
    if number != int(number):
        raise BadRequestError(f"'{name}' must be a whole number")
    return int(number)


_PARSERS: dict[str, Callable[[str, Any], int | float]] = {
    "access_token_validity": _whole_number,
    "refresh_token_validity": _number,
    "access_token_dynamic_signing_key_update_interval": _number,
    "password_reset_token_lifetime": _whole_number,
    "email_verification_token_lifetime": _whole_number,
}


def validate_overrides(overrides: Mapping[str, Any]) -> None:
    """Raise ``BadRequestError`` if a known key of ``overrides`` has an unusable value."""
    CoreConfig().merged(overrides)
