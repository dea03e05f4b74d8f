"""Development email delivery: app links from SDK links, the JSON-lines sink and the log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from supertokens_python.recipe.emailpassword.types import (
    PasswordResetEmailTemplateVars,
    PasswordResetEmailTemplateVarsUser,
)
from supertokens_python.recipe.emailverification.types import (
    VerificationEmailTemplateVars,
    VerificationEmailTemplateVarsUser,
)
from supertokens_python.types import RecipeUserId

from app.sdk.email import (
    EmailSink,
    PasswordResetEmailService,
    VerificationEmailService,
    app_link,
    token_from_link,
)


def read_sink(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("link", "token"),
    [
        ("http://localhost:8000/auth/reset-password?token=abc&tenantId=public", "abc"),
        ("http://x/auth/verify-email?tenantId=public&token=a%2Bb-_.c", "a%2Bb-_.c"),
        ("http://x/auth/verify-email?token=a+b", "a+b"),
    ],
)
def test_token_from_link_is_verbatim(link: str, token: str) -> None:
    assert token_from_link(link) == token


@pytest.mark.parametrize("link", ["http://x/reset-password", "http://x/?token=", "http://x/?tok=1"])
def test_token_from_link_without_token(link: str) -> None:
    with pytest.raises(ValueError, match="no token"):
        token_from_link(link)


def test_app_link_points_at_app_page() -> None:
    sdk_link = "http://localhost:8000/auth/reset-password?token=T0K&tenantId=public"

    assert (
        app_link("http://localhost:8000/", "/reset-password", sdk_link)
        == "http://localhost:8000/reset-password?token=T0K"
    )


async def test_sink_appends_json_lines(tmp_path: Path) -> None:
    sink = EmailSink(tmp_path / "nested" / "emails.jsonl")

    await sink.record("password_reset", "a@example.test", "http://x/reset-password?token=1")
    await sink.record("email_verification", "b@example.test", "http://x/verify-email?token=2")

    first, second = read_sink(tmp_path / "nested" / "emails.jsonl")
    assert first["type"] == "password_reset"
    assert first["to"] == "a@example.test"
    assert first["link"] == "http://x/reset-password?token=1"
    assert first["time"].endswith("+00:00")
    assert second["type"] == "email_verification"


async def test_password_reset_service(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sink_path = tmp_path / "emails.jsonl"
    service = PasswordResetEmailService(EmailSink(sink_path), "http://localhost:8000")
    template_vars = PasswordResetEmailTemplateVars(
        user=PasswordResetEmailTemplateVarsUser("user-1", RecipeUserId("user-1"), "a@example.test"),
        password_reset_link="http://localhost:8000/auth/reset-password?token=RST&tenantId=public",
        tenant_id="public",
    )

    with caplog.at_level(logging.INFO, logger="app.email"):
        await service.send_email(template_vars, {})

    [message] = read_sink(sink_path)
    assert message["type"] == "password_reset"
    assert message["to"] == "a@example.test"
    assert message["link"] == "http://localhost:8000/reset-password?token=RST"
    assert [record.name for record in caplog.records] == ["app.email"]
    assert "a@example.test" in caplog.records[0].getMessage()


async def test_verification_service(tmp_path: Path) -> None:
    sink_path = tmp_path / "emails.jsonl"
    service = VerificationEmailService(EmailSink(sink_path), "https://app.example.test")
    template_vars = VerificationEmailTemplateVars(
        user=VerificationEmailTemplateVarsUser("user-2", RecipeUserId("user-2"), "b@example.test"),
        email_verify_link="https://app.example.test/auth/verify-email?token=EV&tenantId=public",
        tenant_id="public",
    )

    await service.send_email(template_vars, {})

    [message] = read_sink(sink_path)
    assert message["type"] == "email_verification"
    assert message["to"] == "b@example.test"
    assert message["link"] == "https://app.example.test/verify-email?token=EV"
