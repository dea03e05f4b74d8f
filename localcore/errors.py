"""Request errors that become a non-200 JSON ``{"message": ...}`` response.

Business outcomes are never errors: they are HTTP 200 with a ``status`` field. These are for
malformed input and requests the core cannot route.
"""

from __future__ import annotations


class HttpError(Exception):
    """A request the core refuses, answered with ``status_code`` and a JSON message."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(HttpError):
    status_code = 400


class UnauthorisedError(HttpError):
    status_code = 401


class NotFoundError(HttpError):
    status_code = 404


class MethodNotAllowedError(HttpError):
    status_code = 405


class PayloadTooLargeError(HttpError):
    status_code = 413
