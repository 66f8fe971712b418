"""The README's command outputs are real: regenerating every block from a run changes nothing
(``make readme`` rewrites them)."""

from __future__ import annotations

import subprocess
import sys

from cli_helpers import ROOT


def test_readme_blocks_are_fresh() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "scripts" / "readme.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stdout + r.stderr
