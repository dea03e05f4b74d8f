"""Claim validation through `verify_session`, re-created from the SDK's
tests/sessions/claims/test_verify_session.py for Quart (written anew).

A claim the tests control: `st-test`, a boolean claim whose value the test puts in the payload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import init_sdk, new_user
from quart import Quart, Response, jsonify, request
from quart.testing import QuartClient
from supertokens_python.recipe.session import SessionContainer, SessionOverrideConfig
from supertokens_python.recipe.session.asyncio import create_new_session, revoke_session
from supertokens_python.recipe.session.claims import BooleanClaim
from supertokens_python.recipe.session.interfaces import RecipeInterface, SessionClaimValidator
from supertokens_python.types import RecipeUserId

from quart_supertokens import QuartSuperTokens, verify_session
from quart_supertokens.framework import QuartRequest


async def _never_fetched(*_: Any) -> bool:
    return False


TestClaim = BooleanClaim("st-test", _never_fetched)


def _global_test_claim(original: RecipeInterface) -> RecipeInterface:
    """A session override that adds `st-test == True` to the global validators."""

    async def get_global_claim_validators(
        tenant_id: str,
        user_id: str,
        recipe_user_id: RecipeUserId,
        claim_validators_added_by_other_recipes: list[SessionClaimValidator],
        user_context: dict[str, Any],
    ) -> list[SessionClaimValidator]:
        return [*claim_validators_added_by_other_recipes, TestClaim.validators.has_value(True)]

    original.get_global_claim_validators = get_global_claim_validators  # type: ignore[method-assign,assignment]
    return original


def _app() -> Quart:
    app = Quart("claims")
    QuartSuperTokens(app)

    @app.post("/create")
    async def create() -> Response:
        body = await request.get_json()
        await create_new_session(
            QuartRequest(request),
            "public",
            RecipeUserId(body["userId"]),
            access_token_payload={"st-test": {"v": body["value"], "t": 0}},
        )
        return jsonify({})

    @app.get("/default")
    @verify_session()
    async def default() -> Response:
        return jsonify({"ok": True})

    @app.get("/no-claims")
    @verify_session(override_global_claim_validators=lambda *_: [])
    async def no_claims() -> Response:
        return jsonify({"ok": True})

    async def async_override(
        validators: list[SessionClaimValidator], session: SessionContainer, ctx: dict[str, Any]
    ) -> list[SessionClaimValidator]:
        return [v for v in validators if v.id != "st-test"]

    @app.get("/async-override")
    @verify_session(override_global_claim_validators=async_override)
    async def async_overridden() -> Response:
        return jsonify({"ok": True})

    @app.get("/optional")
    @verify_session(session_required=False)
    async def optional() -> Response:
        return jsonify({"ok": True})

    @app.get("/db")
    @verify_session(check_database=True, override_global_claim_validators=lambda *_: [])
    async def db() -> Response:
        return jsonify({"ok": True})

    return app


async def _signed_in(app: Quart, value: bool) -> QuartClient:
    client = app.test_client()
    created = await client.post("/create", json={"userId": await new_user(), "value": value})
    assert created.status_code == 200
    return client


@pytest.fixture(name="app")
async def _claims_app(core_uri: str) -> AsyncIterator[Quart]:
    init_sdk(core_uri, override=SessionOverrideConfig(functions=_global_test_claim))
    app = _app()
    async with app.test_app():
        yield app


async def test_a_failing_global_validator_is_403_invalid_claim(app: Quart) -> None:
    client = await _signed_in(app, False)
    response = await client.get("/default")
    assert response.status_code == 403
    body = await response.get_json()
    assert body["message"] == "invalid claim"
    assert body["claimValidationErrors"][0]["id"] == "st-test"


async def test_a_passing_global_validator_renders(app: Quart) -> None:
    assert (await (await _signed_in(app, True)).get("/default")).status_code == 200


async def test_an_override_that_removes_all_validators_renders(app: Quart) -> None:
    assert (await (await _signed_in(app, False)).get("/no-claims")).status_code == 200


async def test_an_async_override_is_awaited(app: Quart) -> None:
    assert (await (await _signed_in(app, False)).get("/async-override")).status_code == 200


async def test_an_optional_session_still_validates_claims(app: Quart) -> None:
    client = await _signed_in(app, False)
    assert (await client.get("/optional")).status_code == 403
    assert (await app.test_client().get("/optional")).status_code == 200  # no session at all


async def test_check_database_sees_a_revoked_session(app: Quart) -> None:
    client = await _signed_in(app, True)
    assert (await client.get("/db")).status_code == 200
    token = next(c.value for c in client.cookie_jar if c.name == "sAccessToken")
    async with app.test_request_context("/", headers={"Cookie": f"sAccessToken={token}"}):
        from supertokens_python.recipe.session.asyncio import get_session_without_request_response

        session = await get_session_without_request_response(token, anti_csrf_check=False)
        assert session is not None
        await revoke_session(session.get_handle())
    assert (await client.get("/db")).status_code == 401


async def test_a_custom_invalid_claim_status_code(core_uri: str) -> None:
    init_sdk(
        core_uri,
        invalid_claim_status_code=499,
        override=SessionOverrideConfig(functions=_global_test_claim),
    )
    app = _app()
    async with app.test_app():
        client = await _signed_in(app, False)
        assert (await client.get("/default")).status_code == 499


# -- the rest of tests/sessions/claims/test_verify_session.py, with validators of their own --------


async def _fetch_true(*_: Any) -> bool:
    return True


async def _fetch_none(*_: Any) -> None:
    return None


TrueClaim = BooleanClaim("st-true", _fetch_true)
NoneClaim = BooleanClaim("st-none", _fetch_none)  # type: ignore[arg-type]


class FixedValidator(SessionClaimValidator):
    """A validator with a fixed answer (the SDK tests' AlwaysValid/AlwaysInvalid validators)."""

    def __init__(self, valid: bool, reason: dict[str, Any] | None = None) -> None:
        super().__init__("always-valid-validator" if valid else "always-invalid-validator")
        self.claim = TrueClaim
        self.valid, self.reason = valid, reason

    async def validate(self, payload: Any, user_context: dict[str, Any]) -> Any:
        from supertokens_python.recipe.session.interfaces import ClaimValidationResult

        return ClaimValidationResult(is_valid=self.valid, reason=self.reason)

    def should_refetch(self, payload: Any, user_context: dict[str, Any]) -> bool:
        return True


def _with_global(validator: SessionClaimValidator | None) -> Any:
    def override(original: RecipeInterface) -> RecipeInterface:
        async def get_global_claim_validators(
            tenant_id: str,
            user_id: str,
            recipe_user_id: RecipeUserId,
            claim_validators_added_by_other_recipes: list[SessionClaimValidator],
            user_context: dict[str, Any],
        ) -> list[SessionClaimValidator]:
            extra = [validator] if validator is not None else []
            return [*claim_validators_added_by_other_recipes, *extra]

        original.get_global_claim_validators = get_global_claim_validators  # type: ignore[method-assign,assignment]
        return original

    return SessionOverrideConfig(functions=override)


async def _claims_client(core_uri: str, validator: SessionClaimValidator | None) -> Any:
    init_sdk(core_uri, override=_with_global(validator))
    app = _app()

    @app.get("/refetched-claim")
    @verify_session(
        override_global_claim_validators=lambda *_: [TrueClaim.validators.has_value(True)]
    )
    async def refetched() -> Response:
        return jsonify({"ok": True})

    @app.get("/refetched-claim-false")
    @verify_session(
        override_global_claim_validators=lambda *_: [TrueClaim.validators.has_value(False)]
    )
    async def refetched_false() -> Response:
        return jsonify({"ok": True})

    return app


async def _get(core_uri: str, validator: SessionClaimValidator | None, path: str) -> Any:
    app = await _claims_client(core_uri, validator)
    async with app.test_app():
        client = await _signed_in(app, True)
        response = await client.get(path)
        return response.status_code, await response.get_json()


async def test_should_allow_without_claims_required_or_present(core_uri: str) -> None:
    assert (await _get(core_uri, None, "/default"))[0] == 200


async def test_should_allow_with_claim_valid_after_refetching(core_uri: str) -> None:
    assert (await _get(core_uri, TrueClaim.validators.has_value(True), "/default"))[0] == 200


async def test_should_reject_with_claim_required_but_not_added(core_uri: str) -> None:
    status, body = await _get(core_uri, NoneClaim.validators.has_value(True), "/default")
    assert status == 403
    assert body == {
        "message": "invalid claim",
        "claimValidationErrors": [
            {
                "id": "st-none",
                "reason": {
                    "message": "value does not exist",
                    "expectedValue": True,
                    "actualValue": None,
                },
            }
        ],
    }


async def test_should_allow_with_custom_validator_returning_true(core_uri: str) -> None:
    assert (await _get(core_uri, FixedValidator(True), "/default"))[0] == 200


async def test_should_reject_with_custom_validator_returning_false_without_reason(
    core_uri: str,
) -> None:
    status, body = await _get(core_uri, FixedValidator(False), "/default")
    assert status == 403
    assert body == {
        "message": "invalid claim",
        "claimValidationErrors": [{"id": "always-invalid-validator"}],
    }


async def test_should_reject_with_custom_validator_returning_false_with_reason(
    core_uri: str,
) -> None:
    status, body = await _get(core_uri, FixedValidator(False, {"message": "foo"}), "/default")
    assert status == 403
    assert body["claimValidationErrors"] == [
        {"id": "always-invalid-validator", "reason": {"message": "foo"}}
    ]


async def test_should_allow_with_empty_list_as_override(core_uri: str) -> None:
    assert (await _get(core_uri, NoneClaim.validators.has_value(True), "/no-claims"))[0] == 200


async def test_should_allow_with_refetched_claim(core_uri: str) -> None:
    validator = NoneClaim.validators.has_value(True)
    assert (await _get(core_uri, validator, "/refetched-claim"))[0] == 200


async def test_should_reject_with_invalid_refetched_claim(core_uri: str) -> None:
    validator = NoneClaim.validators.has_value(True)
    status, body = await _get(core_uri, validator, "/refetched-claim-false")
    assert status == 403
    assert body["claimValidationErrors"][0]["id"] == "st-true"
