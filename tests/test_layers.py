"""The layering the design card fixes: modem/ knows no gateway, web/ no SQL or AT, and
production code never imports the simulator (only the demo and `tocsin simulate` do)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SIMULATOR_ALLOWED = {"gateway/demo.py", "gateway/cli.py"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", sources("modem"), ids=lambda p: str(p.relative_to(ROOT)))
def test_modem_knows_nothing_of_the_gateway(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] in ("gateway", "web")}
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("path", sources("web"), ids=lambda p: str(p.relative_to(ROOT)))
def test_web_uses_no_sql_and_no_at(path: Path) -> None:
    bad = {
        m
        for m in imports_of(path)
        if m.split(".")[0] in ("sqlite3", "aiosqlite", "serial", "serial_asyncio_fast")
        or m.startswith(("modem.at", "modem.transport", "gateway.storage"))
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize(
    "path",
    sources("gateway") + sources("web") + sources("modem"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_demo_imports_the_simulator(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith("modem/simulator/") or relative in SIMULATOR_ALLOWED:
        return
    bad = {m for m in imports_of(path) if m.startswith("modem.simulator")}
    assert not bad, f"{relative} imports the simulator"
