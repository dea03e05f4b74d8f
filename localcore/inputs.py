"""Typed access to a request's JSON body and query string; bad input raises ``BadRequestError``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from localcore.errors import BadRequestError

JsonObject = dict[str, Any]


def parse_json_object(raw: bytes) -> JsonObject:
    """The body as a JSON object; an empty body counts as ``{}``."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("Invalid JSON input") from None
    if not isinstance(value, dict):
        raise BadRequestError("Invalid JSON input: expected an object")
    return value


class Fields:
    """Named, typed fields of a JSON object or a query string, with 400s for wrong input."""

    def __init__(self, values: Mapping[str, Any], *, from_query: bool = False) -> None:
        self._values = values
        self._from_query = from_query

    def _missing(self, name: str) -> BadRequestError:
        return BadRequestError(f"Field name '{name}' is missing in JSON input")

    def _wrong_type(self, name: str, expected: str) -> BadRequestError:
        return BadRequestError(f"Field name '{name}' must be {expected}")

    def has(self, name: str) -> bool:
        return self._values.get(name) is not None

    def string(self, name: str) -> str:
        value = self.optional_string(name)
        if value is None:
            raise self._missing(name)
        return value

    def optional_string(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong_type(name, "a string")
        return value

    def boolean(self, name: str, default: bool | None = None) -> bool:
        value = self._values.get(name)
        if value is None:
            if default is None:
                raise self._missing(name)
            return default
        if self._from_query and isinstance(value, str):
            if value in ("true", "false"):
                return value == "true"
            raise self._wrong_type(name, "true or false")
        if not isinstance(value, bool):
            raise self._wrong_type(name, "a boolean")
        return value

    def json_object(self, name: str, default: JsonObject | None = None) -> JsonObject:
        value = self._values.get(name)
        if value is None:
            if default is None:
                raise self._missing(name)
            return dict(default)
        if not isinstance(value, dict):
            raise self._wrong_type(name, "a JSON object")
        return value

    def string_list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self._values.get(name)
        if value is None:
            if default is None:
                raise self._missing(name)
            return list(default)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong_type(name, "an array of strings")
        return value
