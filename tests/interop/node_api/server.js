"use strict";
/*
 * The SuperTokens SSR guide's own backend stack, for the interop tests in
 * tests/interop/test_node_backend.py: express + supertokens-node (EmailPassword and Session),
 * serving the SDK's /auth API beside the Quart web process, against the same core app.
 *
 * Configuration, all from the environment (the test passes every value):
 *   SUPERTOKENS_CONNECTION_URI  the core app, e.g. http://127.0.0.1:3567/appid-<id>
 *   API_DOMAIN, WEBSITE_DOMAIN  the same app info as the Quart process
 *   APP_NAME, API_BASE_PATH     idem (API_BASE_PATH defaults to /auth)
 *   HOST, PORT                  where to listen (HOST defaults to 127.0.0.1)
 *
 * Routes besides the SDK's own API:
 *   GET /healthz     200 "ok" (the test's health wait)
 *   GET /me          verifySession(): {userId, sessionHandle} (the JWT checked locally)
 *   GET /me/checked  verifySession({checkDatabase: true}): the same, the core asked every time
 */

const express = require("express");
const supertokens = require("supertokens-node");
const Session = require("supertokens-node/recipe/session");
const EmailPassword = require("supertokens-node/recipe/emailpassword");
const { middleware, errorHandler } = require("supertokens-node/framework/express");
const { verifySession } = require("supertokens-node/recipe/session/framework/express");

function required(name) {
    const value = (process.env[name] || "").trim();
    if (!value) {
        console.error(`node_api: the environment variable ${name} is required`);
        process.exit(2);
    }
    return value;
}

const host = (process.env.HOST || "127.0.0.1").trim();
const port = Number.parseInt(required("PORT"), 10);
const apiBasePath = (process.env.API_BASE_PATH || "/auth").trim();

supertokens.init({
    framework: "express",
    supertokens: { connectionURI: required("SUPERTOKENS_CONNECTION_URI") },
    appInfo: {
        appName: required("APP_NAME"),
        apiDomain: required("API_DOMAIN"),
        websiteDomain: required("WEBSITE_DOMAIN"),
        apiBasePath,
    },
    recipeList: [
        EmailPassword.init(),
        Session.init({
            getTokenTransferMethod: () => "cookie",
            antiCsrf: "NONE",
            cookieSameSite: "lax",
        }),
    ],
    telemetry: false,
});

const app = express();
// One line per request, so a failing test's assertion message shows what Node answered.
app.use((req, res, next) => {
    res.on("finish", () => console.log(`node_api: ${req.method} ${req.originalUrl} ${res.statusCode}`));
    next();
});
app.use(middleware());

app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
});

function whoami(req, res) {
    res.json({ userId: req.session.getUserId(), sessionHandle: req.session.getHandle() });
}

app.get("/me", verifySession(), whoami);
app.get("/me/checked", verifySession({ checkDatabase: true }), whoami);

app.use(errorHandler());
// Anything the SDK's handler did not answer: log it for the test's log file, answer 500.
app.use((err, _req, res, _next) => {
    console.error("node_api: unhandled error", err);
    res.status(500).json({ message: String((err && err.message) || err) });
});

const server = app.listen(port, host, () => {
    console.log(`node_api: listening on http://${host}:${port} (apiBasePath ${apiBasePath})`);
});

function stop(signal) {
    console.log(`node_api: ${signal}, closing`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
}

process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
