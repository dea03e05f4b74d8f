"""tests/sessions/claims/test_verify_session.py of the SDK, re-created for Quart (written anew).

Claim validation through the extension's `verify_session`: global validators from a Session
override, `override_global_claim_validators` per route, custom validators, and the 403 body.
Session recipe only, as in the SDK's module; sessions belong to a made-up user id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from conftest import init_sdk
from quart import Quart, Response, jsonify, request
from quart.testing import QuartClient
from supertokens_python.recipe.session import SessionOverrideConfig
from supertokens_python.recipe.session.asyncio import create_new_session
from supertokens_python.recipe.session.claims import PrimitiveClaim
from supertokens_python.recipe.session.exceptions import (
    ClaimValidationError,
    raise_invalid_claims_exception,
)
from supertokens_python.recipe.session.interfaces import (
    ClaimValidationResult,
    JSONObject,
    RecipeInterface,
    SessionClaimValidator,
)
from supertokens_python.recipe.session.session_class import Session
from supertokens_python.types import RecipeUserId

from quart_supertokens import QuartSuperTokens, verify_session
from quart_supertokens.framework import QuartRequest


async def _true(*_: Any) -> bool:
    return True


async def _none(*_: Any) -> None:
    return None


TrueClaim = PrimitiveClaim("st-true", _true)  # type: ignore[arg-type]
NoneClaim = PrimitiveClaim("st-none", _none)  # type: ignore[arg-type]


class FixedValidator(SessionClaimValidator):
    """A validator with a fixed verdict that always asks for a refetch."""

    def __init__(self, validator_id: str, is_valid: bool, reason: Any = None) -> None:
        super().__init__(validator_id)
        self.claim = TrueClaim
        self.is_valid = is_valid
        self.reason = reason

    async def validate(
        self, payload: JSONObject, user_context: dict[str, Any] | None = None
    ) -> ClaimValidationResult:
        return ClaimValidationResult(is_valid=self.is_valid, reason=self.reason)

    def should_refetch(self, payload: JSONObject, user_context: dict[str, Any]) -> bool:
        return True


def _globals(
    validators: list[SessionClaimValidator], keep_others: bool = True
) -> SessionOverrideConfig:
    """A Session override whose global claim validators are `validators` (plus the recipes')."""

    def override(original: RecipeInterface) -> RecipeInterface:
        async def get_global_claim_validators(
            tenant_id: str,
            user_id: str,
            recipe_user_id: RecipeUserId,
            claim_validators_added_by_other_recipes: list[SessionClaimValidator],
            user_context: dict[str, Any],
        ) -> list[SessionClaimValidator]:
            others = claim_validators_added_by_other_recipes if keep_others else []
            return [*others, *validators]

        original.get_global_claim_validators = get_global_claim_validators  # type: ignore[method-assign,assignment]
        return original

    return SessionOverrideConfig(functions=override)


def _override(*validators: SessionClaimValidator) -> Callable[..., list[SessionClaimValidator]]:
    return lambda *_: list(validators)


def _app() -> Quart:
    app = Quart("claims")
    QuartSuperTokens(app)

    @app.post("/create-with-claim")
    async def create_with_claim() -> Response:
        await create_new_session(QuartRequest(request), "public", RecipeUserId("userId"), {}, {})
        return jsonify({"userId": "userId"})

    def handle() -> Response:
        session = QuartRequest(request).get_session()
        assert session is not None
        return jsonify({"handle": session.get_handle()})

    routes: dict[str, Any] = {
        "/default-claims": None,
        "/no-claims": _override(),
        "/refetched-claim": _override(TrueClaim.validators.has_value(True)),
        "/refetched-claim-false": _override(TrueClaim.validators.has_value(False)),
        "/refetched-claim-isvalid-false": _override(
            FixedValidator("test_id", False, {"message": "test_reason"})
        ),
        "/refetched-claim-isvalid-true": _override(FixedValidator("test_id", True)),
    }
    for path, override in routes.items():

        async def view() -> Response:
            return handle()

        app.add_url_rule(
            path,
            endpoint=path,
            view_func=verify_session(override_global_claim_validators=override)(view),
        )

    @app.post("/verify")
    @verify_session()
    async def verify() -> Response:
        return handle()

    async def drop_st_true(
        validators: list[SessionClaimValidator], *_: Any
    ) -> list[SessionClaimValidator]:
        return [v for v in validators if v.id != "st-true"]

    @app.get("/async-override")
    @verify_session(override_global_claim_validators=drop_st_true)
    async def async_override() -> Response:
        return handle()

    @app.get("/optional")
    @verify_session(session_required=False)
    async def optional() -> Response:
        return jsonify({"session": QuartRequest(request).get_session() is not None})

    @app.get("/db")
    @verify_session(check_database=True)
    async def db() -> Response:
        return handle()

    return app


@pytest.fixture(name="client")
async def _client(core_uri: str) -> AsyncIterator[Callable[..., Any]]:
    """Initialise with these global validators, sign in, and give the signed-in test client."""
    contexts: list[Any] = []

    async def client(
        validators: list[SessionClaimValidator] | None = None, keep_others: bool = True
    ) -> QuartClient:
        override = _globals(validators, keep_others) if validators is not None else None
        init_sdk(core_uri, recipes=[], anti_csrf="VIA_TOKEN", override=override)
        app = _app()
        context = app.test_app()
        await context.__aenter__()
        contexts.append(context)
        signed_in = app.test_client()
        assert (await signed_in.post("/create-with-claim", json={})).status_code == 200
        return signed_in

    yield client
    for context in contexts:
        await context.__aexit__(None, None, None)


def _invalid(*errors: dict[str, Any]) -> dict[str, Any]:
    return {"message": "invalid claim", "claimValidationErrors": list(errors)}


async def test_should_allow_without_claims_required_or_present(client: Any) -> None:
    response = await (await client()).get("/default-claims")
    assert response.status_code == 200 and "-" in (await response.get_json())["handle"]


async def test_should_allow_with_claim_valid_after_refetching(client: Any) -> None:
    signed_in = await client([TrueClaim.validators.has_value(True)])
    assert (await signed_in.get("/default-claims")).status_code == 200


async def test_should_reject_with_claim_required_but_not_added(client: Any) -> None:
    signed_in = await client([NoneClaim.validators.has_value(True)])
    response = await signed_in.get("/default-claims")
    assert response.status_code == 403
    reason = {"message": "value does not exist", "expectedValue": True, "actualValue": None}
    assert await response.get_json() == _invalid({"id": "st-none", "reason": reason})


async def test_should_allow_with_custom_validator_returning_true(client: Any) -> None:
    signed_in = await client([FixedValidator("always-valid-validator", True)])
    response = await signed_in.get("/default-claims")
    assert response.status_code == 200 and "-" in (await response.get_json())["handle"]


async def test_should_reject_with_custom_validator_returning_false_without_reason(
    client: Any,
) -> None:
    signed_in = await client([FixedValidator("always-invalid-validator", False)])
    response = await signed_in.get("/default-claims")
    assert response.status_code == 403
    assert await response.get_json() == _invalid({"id": "always-invalid-validator"})


async def test_should_reject_with_custom_validator_returning_false_with_reason(
    client: Any,
) -> None:
    signed_in = await client(
        [FixedValidator("always-invalid-validator", False, {"message": "foo"})]
    )
    response = await signed_in.get("/default-claims")
    assert response.status_code == 403
    expected = {"id": "always-invalid-validator", "reason": {"message": "foo"}}
    assert await response.get_json() == _invalid(expected)


async def test_should_reject_if_assert_claims_returns_an_error(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in = await client([FixedValidator("always-valid-validator", True)], keep_others=False)

    async def failing(self: Session, validators: Any, user_context: Any = None) -> None:
        raise_invalid_claims_exception(
            "INVALID_CLAIM", [ClaimValidationError("test_id", {"message": "test_reason"})]
        )

    monkeypatch.setattr(Session, "assert_claims", failing)
    response = await signed_in.get("/default-claims")
    assert response.status_code == 403
    expected = {"id": "test_id", "reason": {"message": "test_reason"}}
    assert await response.get_json() == _invalid(expected)


async def test_should_allow_if_assert_claims_returns_no_error(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    validator = FixedValidator("always-valid-validator", True)
    signed_in = await client([validator], keep_others=False)
    calls: list[tuple[Any, Any]] = []
    original = Session.assert_claims

    async def recording(self: Session, validators: Any, user_context: Any = None) -> None:
        calls.append((validators, user_context))
        await original(self, validators, user_context)

    monkeypatch.setattr(Session, "assert_claims", recording)
    response = await signed_in.get("/default-claims")
    assert response.status_code == 200 and "-" in (await response.get_json())["handle"]
    assert len(calls) == 1
    validators, user_context = calls[0]
    assert validators == [validator]
    # The request's one user context, carrying the wrapped request, as the SDK's adapters pass.
    assert isinstance(user_context["_default"]["request"], QuartRequest)


async def test_should_allow_with_empty_list_as_override(client: Any) -> None:
    signed_in = await client([NoneClaim.validators.has_value(True)])
    assert (await signed_in.get("/no-claims")).status_code == 200


async def test_should_allow_with_refetched_claim(client: Any) -> None:
    signed_in = await client([NoneClaim.validators.has_value(True)])
    assert (await signed_in.get("/refetched-claim")).status_code == 200


async def test_should_reject_with_invalid_refetched_claim(client: Any) -> None:
    signed_in = await client([NoneClaim.validators.has_value(True)])
    response = await signed_in.get("/refetched-claim-false")
    assert response.status_code == 403
    reason = {"message": "wrong value", "expectedValue": False, "actualValue": True}
    assert await response.get_json() == _invalid({"id": "st-true", "reason": reason})


async def test_should_reject_with_custom_claim_returning_false(client: Any) -> None:
    invalid = FixedValidator("always-invalid-validator", False, {"message": "not used"})
    response = await (await client([invalid])).get("/refetched-claim-isvalid-false")
    assert response.status_code == 403
    expected = {"id": "test_id", "reason": {"message": "test_reason"}}
    assert await response.get_json() == _invalid(expected)


async def test_should_allow_with_custom_claim_returning_true(client: Any) -> None:
    invalid = FixedValidator("always-invalid-validator", False)
    response = await (await client([invalid])).get("/refetched-claim-isvalid-true")
    assert response.status_code == 200 and "-" in (await response.get_json())["handle"]


async def test_that_verify_session_return_401_if_not_access_token_is_sent_and_middleware_is_not_added(  # noqa: E501
    core_uri: str,
) -> None:
    init_sdk(core_uri, recipes=[])
    app = _app()
    bare = Quart("bare")

    @bare.post("/verify")
    @verify_session()
    async def verify() -> Response:
        return jsonify({})

    async with app.test_app():
        client = app.test_client()
        assert (await client.post("/verify")).status_code == 401
        assert (await client.post("/create-with-claim", json={})).status_code == 200
        assert (await client.post("/verify")).status_code == 200
    response = await bare.test_client().post("/verify")
    assert response.status_code == 401
    assert await response.get_json() == {"message": "unauthorised"}


# -- beyond the SDK's module: the same decorator's other parameters ----------------------------


async def test_an_async_override_is_awaited(client: Any) -> None:
    signed_in = await client([TrueClaim.validators.has_value(False)])
    assert (await signed_in.get("/default-claims")).status_code == 403
    assert (await signed_in.get("/async-override")).status_code == 200


async def test_an_optional_session_still_validates_claims(client: Any) -> None:
    signed_in = await client([NoneClaim.validators.has_value(True)])
    assert (await signed_in.get("/optional")).status_code == 403
    signed_in.cookie_jar.clear()
    response = await signed_in.get("/optional")  # no session at all: no claims to check
    assert response.status_code == 200 and await response.get_json() == {"session": False}


async def test_check_database_sees_a_revoked_session(client: Any) -> None:
    from supertokens_python.recipe.session.asyncio import revoke_all_sessions_for_user

    signed_in = await client()
    assert (await signed_in.get("/db")).status_code == 200
    await revoke_all_sessions_for_user("userId")
    assert (await signed_in.get("/default-claims")).status_code == 200  # a local check
    assert (await signed_in.get("/db")).status_code == 401


async def test_a_custom_invalid_claim_status_code(core_uri: str) -> None:
    init_sdk(
        core_uri,
        recipes=[],
        invalid_claim_status_code=499,
        override=_globals([NoneClaim.validators.has_value(True)]),
    )
    app = _app()
    async with app.test_app():
        signed_in = app.test_client()
        assert (await signed_in.post("/create-with-claim", json={})).status_code == 200
        assert (await signed_in.get("/default-claims")).status_code == 499
