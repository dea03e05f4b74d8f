"""Form input: read fields safely and validate them into inline, per-field error messages."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from quart import request

MAX_EMAIL_LENGTH = 254
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# A pragmatic address check: one @, a dot in the domain, no spaces or control characters.
_EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass
class FormResult:
    """Submitted values (never the password) and the errors found in them, by field name."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


async def read_form() -> dict[str, str]:
    """The posted form as a flat dict of str. Undecodable bytes never raise; they become U+FFFD."""
    form = await request.form
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def email_error(email: str) -> str | None:
    if not email:
        return "Enter your email address."
    if len(email) > MAX_EMAIL_LENGTH:
        return f"An email address has at most {MAX_EMAIL_LENGTH} characters."
    if "\ufffd" in email or _has_control_characters(email) or not _EMAIL_PATTERN.match(email):
        return "Enter a valid email address, like name@example.com."
    return None


def new_password_error(password: str) -> str | None:
    """The policy for a new password (sign-up, reset, change); it mirrors the SDK's default."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if "\ufffd" in password or _has_control_characters(password):
        return "The password contains characters that cannot be used."
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        return "Use at least one letter and one number."
    return None


def existing_password_error(password: str) -> str | None:
    """Only presence and size for a password being checked against the account."""
    if not password:
        return "Enter your password."
    if len(password) > MAX_PASSWORD_LENGTH:
        return "Incorrect email or password."
    return None


def credentials_form(form: dict[str, str], new_account: bool) -> FormResult:
    """Validate the email/password fields of the sign-in or sign-up form."""
    email = normalise_email(form.get("email", ""))
    password = form.get("password", "")
    result = FormResult(values={"email": email})
    if error := email_error(email):
        result.errors["email"] = error
    check_password = new_password_error if new_account else existing_password_error
    if error := check_password(password):
        result.errors["password"] = error
    return result
