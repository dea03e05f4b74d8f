"""The smallest app on quart-supertokens: one protected page and one htmx fragment."""

import os

from quart import Quart
from supertokens_python import InputAppInfo, SupertokensConfig
from supertokens_python.recipe import emailpassword, session

import quart_supertokens
from quart_supertokens import QuartSuperTokens, current_session, require_session

quart_supertokens.init(
    app_info=InputAppInfo(
        app_name="minimal",
        api_domain="http://localhost:8000",
        website_domain="http://localhost:8000",
        api_base_path="/auth",
    ),
    supertokens_config=SupertokensConfig(
        connection_uri=os.environ.get("SUPERTOKENS_CONNECTION_URI", "http://127.0.0.1:3567")
    ),
    recipe_list=[
        session.init(get_token_transfer_method=lambda *_: "cookie", anti_csrf="NONE"),
        emailpassword.init(),  # the SDK's own POST /auth/signup and /auth/signin
    ],
    telemetry=False,
)
app = Quart(__name__)
QuartSuperTokens(app)  # options: keywords or QUART_SUPERTOKENS_* config keys


@app.get("/dashboard")
@require_session()
async def dashboard() -> str:
    return f"""<!doctype html><title>Minimal</title>
<p>Signed in as {current_session.get_user_id()}.</p>
<div hx-get="/fragment" hx-trigger="every 5s">...</div>"""


@app.get("/fragment")
@require_session()
async def fragment() -> str:
    payload = current_session.get_access_token_payload()
    return f"<span>session {current_session.get_handle()}, token expires {payload['exp']}</span>"


@app.get("/login")
async def login() -> str:
    return "<p>Sign up or in through the SDK's API (POST /auth/signup, /auth/signin).</p>"
