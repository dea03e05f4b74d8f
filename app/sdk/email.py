"""Development email delivery: messages are logged and appended to a JSON-lines sink, never sent.

The SDK's default delivery for password reset and email verification POSTs to api.supertokens.io;
these services replace it for EmailPassword and EmailVerification. Each message becomes one line
`{"type", "to", "link", "time"}` in the EMAIL_SINK file, which tests and developers read to follow
the link. The SDK builds its links under `{website}{website_base_path}/...`; ours point at the
app's own pages, `{WEBSITE_DOMAIN}/reset-password?token=...` and `.../verify-email?token=...`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from supertokens_python.ingredients.emaildelivery.types import EmailDeliveryInterface
from supertokens_python.recipe.emailpassword.types import PasswordResetEmailTemplateVars
from supertokens_python.recipe.emailverification.types import VerificationEmailTemplateVars

logger = logging.getLogger("app.email")

EmailType = Literal["password_reset", "email_verification"]
RESET_PASSWORD_PAGE = "/reset-password"  # noqa: S105 - a path, not a password
VERIFY_EMAIL_PAGE = "/verify-email"


def token_from_link(link: str) -> str:
    """The raw `token` query value of an SDK-built link, exactly as the SDK wrote it."""
    for pair in urlsplit(link).query.split("&"):
        name, _, value = pair.partition("=")
        if name == "token" and value:
            return value
    raise ValueError(f"no token in SDK link {link!r}")


def app_link(website_domain: str, page: str, sdk_link: str) -> str:
    """The app page link carrying the token of an SDK-built link."""
    return f"{website_domain.rstrip('/')}{page}?token={token_from_link(sdk_link)}"


class EmailSink:
    """Appends one JSON object per message to a file (created with its directory on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    async def record(self, email_type: EmailType, to: str, link: str) -> None:
        message = {
            "type": email_type,
            "to": to,
            "link": link,
            "time": datetime.now(UTC).isoformat(),
        }
        logger.info("%s email to %s: %s", email_type, to, link)
        await asyncio.to_thread(self._append, json.dumps(message) + "\n")

    def _append(self, line: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as sink:
                sink.write(line)


class PasswordResetEmailService(EmailDeliveryInterface[PasswordResetEmailTemplateVars]):
    """EmailPassword delivery: a reset link to the app's /reset-password page."""

    def __init__(self, sink: EmailSink, website_domain: str) -> None:
        self.sink = sink
        self.website_domain = website_domain

    async def send_email(
        self, template_vars: PasswordResetEmailTemplateVars, user_context: dict[str, Any]
    ) -> None:
        link = app_link(self.website_domain, RESET_PASSWORD_PAGE, template_vars.password_reset_link)
        await self.sink.record("password_reset", template_vars.user.email, link)


class VerificationEmailService(EmailDeliveryInterface[VerificationEmailTemplateVars]):
    """EmailVerification delivery: a link to the app's /verify-email page."""

    def __init__(self, sink: EmailSink, website_domain: str) -> None:
        self.sink = sink
        self.website_domain = website_domain

    async def send_email(
        self, template_vars: VerificationEmailTemplateVars, user_context: dict[str, Any]
    ) -> None:
        link = app_link(self.website_domain, VERIFY_EMAIL_PAGE, template_vars.email_verify_link)
        await self.sink.record("email_verification", template_vars.user.email, link)
