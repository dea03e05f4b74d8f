"""Copy the browser assets from node_modules into static/vendor/ under stable names.

Run by scripts/setup after `npm ci`. Standard library only. Idempotent: a file is rewritten only
when its content differs, so mtimes (and HTTP caches keyed on them) stay put between runs.

supertokens-web-js ships its browser bundles with content-hashed names
(bundle/session.<hash>.js, ...) that change every release; templates refer to the stable copies
(static/vendor/supertokens-web-js/session.js) instead. The bundles load no further chunks by
name, so renaming them is safe.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HTMX_MAJOR = "2"
# Load order in the page is website -> supertokens -> session -> other recipes (base.html).
WEB_JS_BUNDLES = ("website", "supertokens", "session", "emailpassword", "emailverification")


class VendorError(Exception):
    """A source asset is missing, ambiguous or the wrong version."""


@dataclass(frozen=True)
class Copy:
    source: Path
    dest: Path


def _find_bundle(bundle_dir: Path, name: str) -> Path:
    pattern = re.compile(rf"^{re.escape(name)}\.[0-9a-f]+\.js$")
    matches = sorted(p for p in bundle_dir.iterdir() if pattern.match(p.name))
    if not matches:
        raise VendorError(
            f"supertokens-web-js bundle {name!r} not found: expected {bundle_dir}/{name}.<hash>.js"
        )
    if len(matches) > 1:
        found = ", ".join(p.name for p in matches)
        raise VendorError(
            f"supertokens-web-js bundle {name!r} is ambiguous in {bundle_dir}: {found}"
        )
    return matches[0]


def _check_htmx_version(package_dir: Path) -> None:
    version = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))["version"]
    if version.split(".")[0] != HTMX_MAJOR:
        # htmx 4 swaps 4xx/5xx by default and drops the history cache: the app is written for 2.
        raise VendorError(f"node_modules has htmx.org {version}; this app needs {HTMX_MAJOR}.x")


def plan(node_modules: Path, vendor: Path) -> list[Copy]:
    """Work out what to copy where; raise VendorError if any source is missing or ambiguous."""
    if not node_modules.is_dir():
        raise VendorError(f"{node_modules} does not exist: run `npm ci` first")
    htmx_dir = node_modules / "htmx.org"
    web_js_dir = node_modules / "supertokens-web-js"
    for package_dir in (htmx_dir, web_js_dir):
        if not package_dir.is_dir():
            raise VendorError(f"{package_dir} is missing: run `npm ci` first")
    _check_htmx_version(htmx_dir)

    copies = [
        Copy(htmx_dir / "dist" / "htmx.min.js", vendor / "htmx.min.js"),
        Copy(htmx_dir / "LICENSE", vendor / "htmx.LICENSE.txt"),
        Copy(web_js_dir / "LICENSE.md", vendor / "supertokens-web-js" / "LICENSE.md"),
    ]
    bundle_dir = web_js_dir / "bundle"
    if not bundle_dir.is_dir():
        raise VendorError(f"{bundle_dir} is missing: is supertokens-web-js 0.16.x installed?")
    for name in WEB_JS_BUNDLES:
        source = _find_bundle(bundle_dir, name)
        copies.append(Copy(source, vendor / "supertokens-web-js" / f"{name}.js"))
    for copy in copies:
        if not copy.source.is_file():
            raise VendorError(f"{copy.source} is missing")
    return copies


def _write_atomically(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def vendor_assets(node_modules: Path, vendor: Path, *, check: bool = False) -> list[Path]:
    """Copy every planned asset whose content changed; return the destinations that (would) change.

    With check=True nothing is written.
    """
    changed = []
    for copy in plan(node_modules, vendor):
        data = copy.source.read_bytes()
        if copy.dest.is_file() and copy.dest.read_bytes() == data:
            continue
        changed.append(copy.dest)
        if not check:
            _write_atomically(copy.dest, data)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    parser.add_argument("--vendor", type=Path, default=ROOT / "static" / "vendor")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if static/vendor is out of date; write nothing"
    )
    args = parser.parse_args(argv)
    try:
        changed = vendor_assets(args.node_modules, args.vendor, check=args.check)
    except VendorError as exc:
        print(f"vendor_assets: error: {exc}", file=sys.stderr)
        return 2
    for dest in changed:
        verb = "out of date" if args.check else "updated"
        print(f"vendor_assets: {verb}: {dest.relative_to(args.vendor)}")
    if args.check and changed:
        return 1
    if not changed:
        print(f"vendor_assets: {args.vendor} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
