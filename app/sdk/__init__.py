"""This app's SuperTokens set-up: the SDK's recipes and settings, emails, session payload."""
