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
    ),
    supertokens_config=SupertokensConfig(
        connection_uri=os.environ.get("SUPERTOKENS_CONNECTION_URI", "http://127.0.0.1:3567")
    ),
    recipe_list=[
        session.init(get_token_transfer_method=lambda *_: "cookie", anti_csrf="NONE"),
        emailpassword.init(),
    ],
)
app = Quart(__name__)
QuartSuperTokens(app)


@app.get("/")
@require_session()
async def page() -> str:
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
    return "<p>Sign in through POST /auth/signin (the SDK's API), then come back.</p>"
