"""Sessions made by SuperTokens backends this project did not write, rendered by the app."""
