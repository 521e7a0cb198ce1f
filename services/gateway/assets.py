"""Install the GOV.UK Frontend assets the web pages use (from the npm registry), once.

Run by `make run` and `make test`; does nothing when the assets are already in place. The web
pages still work without them (unstyled), so a machine without npm can run the suite.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

GOVUK_FRONTEND_VERSION = "6.6.0"
STATIC = Path(__file__).parent / "static" / "govuk"


# A council's service may not use the GOV.UK crown or the GDS Transport typeface: those assets are
# never installed (pages use Arial, and the council's own name and logo).
GOVUK_ONLY = ("fonts", "favicon.*", "govuk-crest.*", "govuk-icon-*", "govuk-opengraph-image.*")


def installed() -> bool:
    return (STATIC / "govuk-frontend.min.css").exists()


def strip_govuk_only() -> None:
    assets = STATIC / "assets"
    for pattern in GOVUK_ONLY:
        for path in [*assets.glob(pattern), *assets.glob(f"images/{pattern}")]:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def install() -> bool:
    if installed():
        strip_govuk_only()
        return True
    npm = shutil.which("npm")
    if npm is None:
        print(
            "npm not found: web pages will be served without GOV.UK Frontend styles",
            file=sys.stderr,
        )
        return False
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"govuk-frontend@{GOVUK_FRONTEND_VERSION}", "--silent"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        archive = next(Path(tmp).glob("govuk-frontend-*.tgz"))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        dist = Path(tmp) / "package" / "dist" / "govuk"
        STATIC.parent.mkdir(parents=True, exist_ok=True)
        staging = STATIC.with_name("govuk.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name in ("govuk-frontend.min.css", "govuk-frontend.min.js"):
            shutil.copy2(dist / name, staging / name)
        shutil.copytree(
            dist / "assets", staging / "assets", ignore=shutil.ignore_patterns(*GOVUK_ONLY)
        )
        shutil.rmtree(STATIC, ignore_errors=True)
        staging.rename(STATIC)
    print(f"GOV.UK Frontend {GOVUK_FRONTEND_VERSION} assets installed", file=sys.stderr)
    return True


if __name__ == "__main__":
    install()
