"""Reference data and residents in the admin console, in-process: zones and streets edited by
admins only (audited, a street with residents cannot go), the residents list with paging,
search and filters, one resident's file, deactivation, CSV import in the background with its
report, and the export."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from gateway.campaigns.models import Role
from gateway.outbox import Channel, MessageClass, NewMessage
from tests.admin.helpers import PHONES, AdminWeb, make_admin, running_admin

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[AdminWeb]:
    async with running_admin(tmp_path) as client:
        yield client


async def as_admin(web: AdminWeb) -> None:
    await make_admin(web, "root", Role.ADMIN)
    await web.login("root")


async def zone_ids(web: AdminWeb) -> dict[str, int]:
    return {z.name: z.id for z in await web.service.reference.zones()}


async def street_ids(web: AdminWeb) -> dict[str, int]:
    return {s.name: s.id for s in await web.service.reference.streets()}


async def upload(
    web: AdminWeb, path: str, text: str | bytes, name: str = "f.csv"
) -> httpx.Response:
    data = text.encode() if isinstance(text, str) else text
    response = await web.client.post(
        path,
        data={"csrf_token": web.csrf},
        files={"file": (name, data, "text/csv")},
        headers={"origin": "http://testserver"},
    )
    web._remember(response)
    return response


async def test_admin_edits_zones_and_streets_and_every_edit_is_audited(web: AdminWeb) -> None:
    await as_admin(web)
    page = await web.get("/admin/reference")
    assert page.status_code == 200
    assert 'action="/admin/reference/streets/move"' in page.text
    response = await web.post("/admin/reference/zones", {"name": "  Sud   Ouest "})
    assert response.status_code == 303
    zones = await zone_ids(web)
    assert "Sud Ouest" in zones
    response = await web.post("/admin/reference/zones", {"name": "Nord"})
    assert response.status_code == 400
    assert web.context["edit_error"][1].startswith("Un secteur porte")
    response = await web.post(
        "/admin/reference/zones/edit", {"zone": str(zones["Sud Ouest"]), "name": "Sud"}
    )
    assert response.status_code == 303
    streets = await street_ids(web)
    moved = [streets["RUE SAINT-LOUIS"], streets["RUE SAINT-ANDRÉ"]]
    response = await web.post(
        "/admin/reference/streets/move",
        {"street": [str(i) for i in moved], "zone": str(zones["Sud Ouest"])},
    )
    assert response.status_code == 303
    by_name = {s.name: s.zone for s in await web.service.reference.streets()}
    assert by_name["RUE SAINT-LOUIS"] == by_name["RUE SAINT-ANDRÉ"] == "Sud"
    # The residents' profile page lists the same streets, with the new zone.
    profile_streets = await web.recorder.app.state.residents.streets.all()
    assert {s.name: s.zone for s in profile_streets}["RUE SAINT-LOUIS"] == "Sud"
    response = await web.post("/admin/reference/streets/add", {"name": "Rue Neuve", "zone": ""})
    assert response.status_code == 303
    new_id = (await street_ids(web))["Rue Neuve"]
    response = await web.post(
        "/admin/reference/streets/edit",
        {"street": str(new_id), "name": "Rue des Érables", "action": "rename"},
    )
    assert response.status_code == 303
    response = await web.post(
        "/admin/reference/streets/edit", {"street": str(new_id), "action": "remove"}
    )
    assert response.status_code == 303
    assert "Rue des Érables" not in await street_ids(web)
    # A street people live on cannot be removed; the page says why and how many.
    lived_on = next(s for s in await web.service.reference.streets() if s.zone == "Nord")
    count = await web.service.reference.residents_on(lived_on.id)
    assert count > 0
    response = await web.post(
        "/admin/reference/streets/edit", {"street": str(lived_on.id), "action": "remove"}
    )
    assert response.status_code == 400
    assert "Des résidents habitent cette rue" in response.text
    assert web.context["edit_error"][2] == count
    # Nor a zone that still has streets.
    response = await web.post(
        "/admin/reference/zones/edit", {"zone": str(zones["Nord"]), "action": "remove"}
    )
    assert response.status_code == 400
    actions = [e.action for e in await web.service.audit.recent()]
    for action in ("zone.create", "zone.rename", "streets.move", "street.add", "street.remove"):
        assert action in actions, action


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
async def test_operators_and_viewers_see_but_do_not_edit(web: AdminWeb, role: Role) -> None:
    await make_admin(web, "someone", role)
    await web.login("someone")
    page = await web.get("/admin/reference")
    assert page.status_code == 200
    assert "/admin/reference/zones" not in page.text
    assert (await web.post("/admin/reference/zones", {"name": "X"})).status_code == 403
    assert (await web.get("/admin/residents")).status_code == 200
    assert (await web.get("/admin/residents/import")).status_code == 403
    assert (await web.get("/admin/residents.csv")).status_code == 403
    first = web.context  # the error page
    assert first["reason"] == "forbidden"


async def test_list_pages_searches_and_filters(web: AdminWeb) -> None:
    await as_admin(web)
    page = await web.get("/admin/residents")
    assert page.status_code == 200
    listing = web.context["page"]
    assert (listing.total, listing.pages) == (len(PHONES), 1)
    assert "(514) 555-1101" in page.text or "514-555-1101" in page.text  # national format
    await web.get("/admin/residents", params={"q": "514 555-1103"})
    assert [line.phone for line in web.context["page"].lines] == ["+15145551103"]
    await web.get("/admin/residents", params={"q": "Tremblay"})
    assert web.context["page"].total == 3
    zones = await zone_ids(web)
    await web.get("/admin/residents", params={"zone": str(zones["Nord"])})
    assert web.context["page"].total == 8
    await web.get("/admin/residents", params={"consent": "voice"})
    assert web.context["page"].total == sum(1 for i in range(len(PHONES)) if i % 5 == 4)
    await web.get("/admin/residents", params={"q": "saint"})
    assert web.context["page"].total > 0
    directory = web.recorder.app.state.residents.directory
    from gateway.residents.directory import ResidentQuery

    small = await directory.search(ResidentQuery(page=3), per_page=10)
    assert (small.page, small.pages, len(small.lines)) == (3, 3, 4)


async def test_export_from_the_list_keeps_its_search_and_filters(web: AdminWeb) -> None:
    await as_admin(web)
    zones = await zone_ids(web)
    wanted = {"zone": str(zones["Nord"]), "consent": "sms", "active": "yes"}
    page = await web.get("/admin/residents", params=wanted)
    listed = web.context["page"]
    assert 0 < listed.total < len(PHONES)
    hrefs = re.findall(r'href="(/admin/residents\.csv[^"]*)"', page.text)
    assert len(hrefs) == 2
    for href in hrefs:
        link = html.unescape(href)
        assert dict(parse_qsl(link.partition("?")[2])).items() >= wanted.items(), link
        semicolon = "delimiter=semicolon" in link
        export = await web.get(link)
        assert export.status_code == 200
        rows = list(
            csv.reader(
                io.StringIO(export.text.lstrip("\ufeff")), delimiter=";" if semicolon else ","
            )
        )
        names = sorted((row[0], row[1]) for row in rows[1:])
        assert names == sorted((line.last_name, line.first_name) for line in listed.lines)
    # Without filters, everyone; a filter the list ignores is ignored by the export too.
    export = await web.get("/admin/residents.csv", params={"zone": "x", "consent": "DROP"})
    assert len(list(csv.reader(io.StringIO(export.text)))) == len(PHONES) + 1
    export = await web.get("/admin/residents.csv", params={"q": "Tremblay"})
    assert [row[0] for row in csv.reader(io.StringIO(export.text))][1:] == ["Tremblay"] * 3
    # Nobody matching: the header alone.
    export = await web.get("/admin/residents.csv", params={"q": "personne-de-ce-nom"})
    assert export.text.lstrip("\ufeff").startswith("last_name,")
    assert len(export.text.strip().splitlines()) == 1
    details = [e.detail for e in await web.service.audit.recent() if e.action == "residents.export"]
    assert any("zone=" in detail and "consent=sms" in detail for detail in details)
    assert "q=Tremblay" in " ".join(details)


async def test_resident_file_deactivation_and_history(web: AdminWeb) -> None:
    await as_admin(web)
    resident = await web.recorder.app.state.residents.residents.by_phone(PHONES[0])
    outbox = web.gateway.outbox
    await outbox.enqueue(
        NewMessage(
            message_class=MessageClass.ALERT,
            channel=Channel.SMS,
            destination=PHONES[0],
            body="Avis d'ébullition",
            language="fr",
        )
    )
    await outbox.enqueue(
        NewMessage(
            message_class=MessageClass.OTP,
            channel=Channel.SMS,
            destination=PHONES[0],
            body="Votre code : 123456",
            language="fr",
        )
    )
    page = await web.get(f"/admin/residents/{resident.id}")
    assert page.status_code == 200
    sent = web.context["sent"]
    assert [m.message_class for m in sent] == ["otp", "alert"]
    assert sent[0].body == ""  # codes are not shown to staff
    assert "Avis d&#39;ébullition" in page.text
    assert "123456" not in page.text
    response = await web.post(f"/admin/residents/{resident.id}/active", {"active": "no"})
    assert response.status_code == 303
    page = await web.get(response.headers["location"])
    assert "ne reçoit aucune alerte" in page.text
    await web.get("/admin/residents", params={"active": "no"})
    assert [line.id for line in web.context["page"].lines] == [resident.id]
    # Deactivated: no sign-in, and no alert picks them.
    service = web.recorder.app.state.residents
    assert (await service.residents.get(resident.id)).active is False
    from gateway.campaigns.targeting import Target, TargetKind, select_contacts

    assert web.gateway.db is not None
    matched, points = await web.gateway.db.read_fn(
        lambda conn: select_contacts(conn, Target(TargetKind.EVERYONE))
    )
    assert matched == len(PHONES) - 1
    assert resident.id not in {p.resident_id for p in points}
    await web.post(f"/admin/residents/{resident.id}/active", {"active": "yes"})
    assert (await service.residents.get(resident.id)).active is True
    actions = [e.action for e in await web.service.audit.recent()]
    assert "resident.deactivate" in actions
    assert "resident.reactivate" in actions
    assert (await web.get("/admin/residents/999999")).status_code == 404


async def test_import_in_the_background_then_report_then_export(web: AdminWeb) -> None:
    await as_admin(web)
    assert (await web.get("/admin/residents/import")).status_code == 200
    text = (
        "Nom;Prénom;Rue;No civique;Téléphone;Type;Vérifié;Consentement SMS\r\n"
        "Pelletier;Anne;RUE SAINT-LOUIS;10;819 555-0144;both;oui;oui\r\n"
        "Nobody;Zed;RUE INCONNUE;2;819 555-0145;sms;oui;oui\r\n"
        f"Tremblay;Léa;RUE SAINT-LOUIS;3;{PHONES[0]};voice;oui;non\r\n"
    ).encode("cp1252")
    response = await upload(web, "/admin/residents/import", text, "people.csv")
    assert response.status_code == 303
    location = response.headers["location"]
    import_id = int(location.rsplit("/", 1)[1])
    await web.recorder.app.state.residents.imports.wait(import_id)
    page = await web.get(location)
    assert page.status_code == 200
    assert "refresh" not in page.headers  # finished: no more reloading
    status = web.context["status"]
    assert (status.accepted, status.rejected, status.duplicates) == (1, 1, 1)
    assert [(i.line, i.reason) for i in web.context["issues"]] == [
        (3, "street_unknown"),
        (4, "registered"),
    ]
    assert "rue absente de la liste" in page.text
    assert "numéro déjà inscrit" in page.text
    assert "residents.import" in [e.action for e in await web.service.audit.recent()]
    export = await web.get("/admin/residents.csv", params={"delimiter": "semicolon"})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:2] == ["last_name", "first_name"]
    assert len(rows) == len(PHONES) + 2
    assert any(row[0] == "Pelletier" and "+18195550144" in row for row in rows)


async def test_a_running_import_page_refreshes_itself(web: AdminWeb) -> None:
    await as_admin(web)
    imports = web.recorder.app.state.residents.imports
    import_id = await imports._create("slow.csv", "root")  # a row still 'running'
    page = await web.get(f"/admin/residents/import/{import_id}")
    assert page.headers["refresh"] == "2"
    assert "Arrêter l&#39;actualisation automatique" in page.text
    page = await web.get(f"/admin/residents/import/{import_id}", params={"auto": "0"})
    assert "refresh" not in page.headers


async def test_bad_uploads_are_refused(web: AdminWeb) -> None:
    await as_admin(web)
    await web.get("/admin/residents/import")
    response = await upload(web, "/admin/residents/import", b"   \n")
    assert response.status_code == 400
    assert web.context["import_errors"] == {"file": "empty"}
    # A large file passes the app's 64 KiB limit on this path only.
    big = b"last_name,first_name,street,phone1\n" + b"A,B,RUE SAINT-LOUIS,123\n" * 5000
    response = await upload(web, "/admin/residents/import", big)
    assert response.status_code == 303
    import_id = int(response.headers["location"].rsplit("/", 1)[1])
    await web.recorder.app.state.residents.imports.wait(import_id)
    status = await web.recorder.app.state.residents.imports.get(import_id)
    assert (status.rejected, status.accepted) == (5000, 0)
