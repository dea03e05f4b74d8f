"""quart-supertokens as a distribution: its wheel, and its tests in a venv of its own.

The wheel must carry every module and `py.typed`, and depend only on what the extension itself
imports (quart, supertokens-python, PyJWT, httpx). The second test installs the folder into an
empty venv, with only its `test` extra, and runs the extension's own tests there: nothing of the
app's environment may be needed.
"""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "quart-supertokens"
RUNTIME_DEPENDENCIES = {"quart", "supertokens-python", "pyjwt", "httpx"}


def _requirement_name(requirement: str) -> str:
    for separator in "<>=!~[; ":
        requirement = requirement.split(separator, 1)[0]
    return requirement.strip().lower()


def test_the_wheel_carries_every_module_and_only_its_own_dependencies(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path)]
        + [str(EXTENSION)],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("quart_supertokens-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    sources = EXTENSION / "src"
    modules = {p.relative_to(sources).as_posix() for p in sources.rglob("*.py")}
    assert modules <= names
    assert "quart_supertokens/py.typed" in names
    assert not any(n.startswith(("app/", "localcore/", "tests/")) for n in names)
    runtime = {
        _requirement_name(r) for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r
    }
    assert runtime == RUNTIME_DEPENDENCIES


def test_its_tests_pass_in_an_empty_venv_with_only_its_own_dependencies(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"{EXTENSION}[test]"],
        check=True,
        timeout=900,
    )
    # The installed copy, not the folder's sources, is what the tests import.
    where = subprocess.run(
        [str(python), "-c", "import quart_supertokens; print(quart_supertokens.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert str(env_dir) in where
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
