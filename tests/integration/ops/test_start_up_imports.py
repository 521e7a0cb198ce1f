"""A service's start-up imports only what serving needs: scipy (with numpy), which only the
outcomes service's evaluation reports use, is imported on first use, not when the app starts
(tests/unit/outcomes/test_stats.py checks the statistics it then gives)."""

from __future__ import annotations

import subprocess
import sys


def test_the_outcomes_app_starts_without_importing_scipy():
    check = (
        "import sys\n"
        "from services.outcomes.app import create_app\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'numpy'))\n"
        "print(','.join(heavy))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=300, check=True
    )
    assert found.stdout.strip() == ""
