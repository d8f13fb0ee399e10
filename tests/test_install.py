"""scripts/install run for real into a temporary root: unit, config, certificate, udev example,
and a virtualenv whose `tocsin` runs from the installed copy (not from this checkout)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.config import load as load_config
from gateway.ops.doctor import Level, check_certificate

REPO = Path(__file__).parent.parent
SCRIPT = REPO / "scripts" / "install"


def _prepare_venv(venv: Path) -> None:
    """Stand in for `python3 -m venv` (ensurepip alone takes ~20 s on a busy 2-core machine):
    an empty venv that borrows this environment's packages (pip, rich, …) through a .pth file.
    The script sees an existing venv, as on an upgrade, and installs the checkout into it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    (site / "site-packages" / "borrowed.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )


def _install(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(SCRIPT),
            "--root",
            str(root),
            "--no-useradd",
            "--no-systemctl",
            "--pip-args",
            "--no-deps",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_install_into_a_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    venv = root / "opt" / "tocsin" / "venv"
    _prepare_venv(venv)
    done = _install(root)
    assert done.returncode == 0, done.stdout + done.stderr

    unit = root / "etc" / "systemd" / "system" / "tocsin.service"
    assert unit.read_text(encoding="utf-8") == (REPO / "systemd" / "tocsin.service").read_text(
        encoding="utf-8"
    )
    config_path = root / "etc" / "tocsin" / "tocsin.toml"
    assert oct(config_path.stat().st_mode & 0o777) == "0o640"
    config = load_config(config_path)  # the template is a valid configuration
    assert config.get_str("storage.path") == "/var/lib/tocsin/tocsin.sqlite"
    assert config.modems == ()  # the installer adds them, helped by `tocsin modem scan`
    assert "[[modems]]" in config_path.read_text(encoding="utf-8")  # commented example
    tls = root / "var" / "lib" / "tocsin" / "tls"
    overridden = load_config(config_path, {"web.tls_dir": str(tls)})
    assert check_certificate(overridden, datetime.now(UTC))[0].level is Level.OK
    rules = (root / "etc" / "udev" / "rules.d" / "99-tocsin-modems.rules").read_text()
    assert all(line.startswith("#") for line in rules.splitlines() if line.strip())
    assert (root / "opt" / "tocsin" / "README.md").is_file()

    tocsin = venv / "bin" / "tocsin"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    helped = subprocess.run(
        [str(tocsin), "--help"], capture_output=True, text=True, check=True, env=env, cwd=tmp_path
    )
    assert "doctor" in helped.stdout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import gateway; print(gateway.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    assert where.startswith(str(venv)), where  # the installed copy, not the checkout

    # Again, as an upgrade: the configuration someone edited is kept.
    config_path.write_text('[town]\nname = "Saint-Ici"\n', encoding="utf-8")
    again = _install(root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "kept the existing one" in again.stdout
    assert tomllib.loads(config_path.read_text(encoding="utf-8"))["town"]["name"] == "Saint-Ici"


def test_install_refuses_unknown_options() -> None:
    done = subprocess.run([str(SCRIPT), "--bogus"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "unknown option --bogus" in done.stderr
