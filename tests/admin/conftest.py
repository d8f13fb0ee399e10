"""The staff side's browser server, started once for all the admin browser test files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.admin.browser_helpers import AdminServer, serve_admin


@pytest.fixture(scope="package")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminServer]:
    """One town for every admin browser test: each journey uses its own staff account, zone
    or street, so they hold in any order."""
    yield from serve_admin(tmp_path_factory.mktemp("admin"))
