"""The systemd unit is valid for systemd itself (systemd-analyze verify)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).parent.parent / "systemd" / "tocsin.service"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_unit_verifies(tmp_path: Path) -> None:
    tocsin = Path(sys.executable).parent / "tocsin"
    assert tocsin.exists(), "the tocsin console script is not installed in this environment"
    unit = UNIT.read_text(encoding="utf-8").replace("/opt/tocsin/venv/bin/tocsin", str(tocsin))
    (tmp_path / "tocsin.service").write_text(unit, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "tocsin.service")],
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [line for line in result.stderr.splitlines() if "tocsin.service" in line]
    assert result.returncode == 0, result.stderr
    assert problems == []


def test_unit_is_hardened() -> None:
    unit = UNIT.read_text(encoding="utf-8")
    for directive in (
        "User=tocsin",
        "SupplementaryGroups=dialout",
        "StateDirectory=tocsin",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
        "Type=notify",
        "WatchdogSec=30",
    ):
        assert directive in unit.splitlines(), directive
