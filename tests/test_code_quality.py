"""The code standards hold on every run: ruff (lint, format) and mypy --strict."""

from __future__ import annotations

import subprocess
import sys

from tests.servers import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_uses_only_the_extension_s_public_api() -> None:
    """app/ imports quart_supertokens' public names only (its `__all__`, the adapter, testing)."""
    import ast
    from pathlib import Path

    import quart_supertokens
    import quart_supertokens.framework
    import quart_supertokens.testing

    public = {
        "quart_supertokens": set(quart_supertokens.__all__),
        "quart_supertokens.framework": set(quart_supertokens.framework.__all__),
        "quart_supertokens.testing": {"authenticated_client", "create_session_for"},
    }
    found: list[str] = []
    for path in Path("app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "quart_supertokens"
            ):
                allowed = public.get(node.module or "", set())
                found += [
                    f"{path}: {node.module}.{a.name}" for a in node.names if a.name not in allowed
                ]
            elif isinstance(node, ast.Import):
                found += [
                    f"{path}: {a.name}"
                    for a in node.names
                    if a.name.startswith("quart_supertokens") and a.name not in public
                ]
    assert found == []
