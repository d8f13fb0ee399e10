"""The admin console's API token page in-process: admins only, shown once, errors, audit."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.campaigns.models import Role
from tests.admin.helpers import make_admin
from tests.api.helpers import running_api


async def test_admins_create_and_revoke_tokens(tmp_path: Path) -> None:
    async with running_api(tmp_path, residents=False) as api:
        web = api.web
        await make_admin(web, "paul", Role.OPERATOR)
        await make_admin(web, "chef", Role.ADMIN)
        await web.login("paul")
        assert (await web.get("/admin/api-tokens")).status_code == 403
        await web.post("/admin/logout", {})
        await web.login("chef")
        page = await web.get("/admin/api-tokens")
        assert page.status_code == 200
        assert web.template == "admin/api_tokens.html"
        assert [t.name for t in web.context["tokens"]] == ["Tableau de bord", "Travaux publics"]

        response = await web.post("/admin/api-tokens", {"name": "  Urbanisme ", "role": "operator"})
        assert response.status_code == 200
        secret = web.context["secret"]
        assert re.fullmatch(r"tocsin_[A-Za-z0-9_-]{43}", secret)
        assert secret in response.text
        assert response.headers["cache-control"] == "no-store"
        assert (await api.get("/zones", token=secret)).status_code == 200
        listing = await web.get("/admin/api-tokens")
        assert secret not in listing.text
        token = next(t for t in web.context["tokens"] if t.name == "Urbanisme")
        assert token.created_by == "chef"

        for form, field in (
            ({"name": "", "role": "viewer"}, "name"),
            ({"name": "x" * 65, "role": "viewer"}, "name"),
            ({"name": "urbanisme", "role": "viewer"}, "name"),  # taken, any case
            ({"name": "Autre", "role": "admin"}, "role"),
            ({"name": "Autre", "role": "boss"}, "role"),
        ):
            response = await web.post("/admin/api-tokens", form)
            assert response.status_code == 400, form
            assert set(web.context["errors"]) == {field}
            assert web.context["secret"] == ""

        response = await web.post(f"/admin/api-tokens/{token.id}/revoke", {})
        assert response.status_code == 303
        await web.get("/admin/api-tokens")
        assert web.context["flashes"] == ["token_revoked"]
        assert (await api.get("/zones", token=secret)).status_code == 401
        assert (await web.post(f"/admin/api-tokens/{token.id}/revoke", {})).status_code == 404
        # The name is free again once revoked.
        response = await web.post("/admin/api-tokens", {"name": "Urbanisme", "role": "viewer"})
        assert response.status_code == 200

        actions = [(e.username, e.action) for e in await web.service.audit.recent()]
        assert actions[:3] == [
            ("chef", "api.token.create"),
            ("chef", "api.token.revoke"),
            ("chef", "api.token.create"),
        ]
