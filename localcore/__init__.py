"""A SuperTokens-compatible local core: Core Driver Interface 5.4 over HTTP, persisted in SQLite.

Run it with ``python -m localcore``. It serves the subset of the CDI that supertokens-python 0.31.4
calls for the Session, EmailPassword, EmailVerification, UserRoles, UserMetadata and Multitenancy
recipes, with one isolated store, signing key set and config per app (``/appid-<id>/`` prefix).
"""

from __future__ import annotations

SUPPORTED_CDI_VERSIONS = ("5.4",)
