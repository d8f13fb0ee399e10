"""Residents CSV import: decoding, delimiters, headers, per-row checks, duplicates, batches,
the round trip through the export, a 10,000-row file, and garbage that never crashes it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.residents import csv_export, csv_rows
from gateway.residents.csv_rows import ImportRow, RowIssue, StreetIndex
from gateway.residents.directory import ResidentDirectory, ResidentQuery
from gateway.residents.imports import IMPORTED_PASSWORD, ResidentImports
from gateway.residents.models import ContactKind
from gateway.residents.settings import ResidentSettings
from gateway.residents.streets import load_sample_streets
from gateway.storage.database import Database

HEADER = (
    "last_name;first_name;language;civic_number;street;apartment;postal_code;city;email;"
    "phone1;phone1_type;phone1_verified;phone2;phone2_type;phone2_verified;"
    "consent_sms;consent_voice;consent_neighbours"
)
CITY = "Ville de Démo"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "import.sqlite")
    await load_sample_streets(database, CITY)
    try:
        yield database
    finally:
        await database.close()


def imports(db: Database) -> ResidentImports:
    return ResidentImports(db, ResidentSettings(city=CITY))


def index() -> StreetIndex:
    streets = StreetIndex(CITY)
    streets.add(1, CITY, "RUE SAINT-ANDRÉ")
    streets.add(2, CITY, "RUE PRINCIPALE")
    return streets


def parse(text: str) -> list[ImportRow | RowIssue]:
    _layout, rows = csv_rows.parse(text, index(), regions=("CA",), default_language="fr")
    return list(rows)


def test_header_in_french_semicolons_and_aliases() -> None:
    text = (
        "Nom;Prénom;Langue;No civique;Rue;Code postal;Téléphone;Type;Vérifié;Consentement SMS\n"
        "Côté;Léa;anglais;12;rue saint-andre;j6w1t6;514 555-0101;les deux;oui;oui\n"
    )
    layout = csv_rows.sniff_layout(text)
    assert layout.delimiter == ";"
    assert layout.has_header
    [row] = parse(text)
    assert isinstance(row, ImportRow), row
    assert row.profile.last_name == "Côté"
    assert row.profile.language == "en"
    assert row.profile.street_id == 1
    assert row.profile.postal_code == "J6W 1T6"
    assert row.profile.consent_sms_alerts
    assert not row.profile.consent_voice_alerts
    assert row.phones[0].number == "+15145550101"
    assert row.phones[0].kinds == (ContactKind.VOICE, ContactKind.SMS)
    assert row.phones[0].verified


def test_no_header_uses_the_documented_order_with_commas() -> None:
    text = "Roy,Noah,fr,5,RUE PRINCIPALE,,,,,4505550102,sms,no,,,,yes,no,yes\n"
    assert not csv_rows.sniff_layout(text).has_header
    [row] = parse(text)
    assert isinstance(row, ImportRow), row
    assert row.phones[0].kinds == (ContactKind.SMS,)
    assert not row.phones[0].verified
    assert row.profile.consent_neighbour_alerts


def test_bom_and_windows_1252() -> None:
    utf8 = "\ufeffnom;prenom;rue;telephone\nCôté;Léa;RUE PRINCIPALE;5145550101\n".encode()
    decoded = csv_rows.decode(utf8)
    assert decoded.encoding == "utf-8-sig"
    assert decoded.text.startswith("nom")
    cp = "nom;prenom;rue;telephone\nCôté;Léa;RUE PRINCIPALE;5145550101\n".encode("cp1252")
    decoded = csv_rows.decode(cp)
    assert decoded.encoding == "cp1252"
    [row] = parse(decoded.text)
    assert isinstance(row, ImportRow)
    assert row.profile.last_name == "Côté"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (";;fr;1;RUE PRINCIPALE;;;;;5145550101", "name"),
        ("A;B;de;1;RUE PRINCIPALE;;;;;5145550101", "language"),
        ("A;B;fr;1;;;;;;5145550101", "street_missing"),
        ("A;B;fr;1;RUE INCONNUE;;;;;5145550101", "street_unknown"),
        ("A;B;fr;1;RUE PRINCIPALE;;;;;", "phone_missing"),
        ("A;B;fr;1;RUE PRINCIPALE;;;;;18005550199", "phone"),  # toll-free
        ("A;B;fr;1;RUE PRINCIPALE;;;;;+33612345678", "phone"),  # another country
        ("A;B;fr;1;RUE PRINCIPALE;;;;;5145550101;fax", "phone_type"),
        ("A;B;fr;1;RUE PRINCIPALE;;ZZZ 999;;;5145550101", "postal_code"),
        ("A;B;fr;abc;RUE PRINCIPALE;;;;;5145550101", "civic_number"),
        ("A;B;fr;1;RUE PRINCIPALE;;;;not-an-email;5145550101", "email"),
        ("A;B;fr;1;RUE PRINCIPALE;;;;;5145550101;voice;;;;;maybe", "consent"),
    ],
)
def test_rejected_rows_say_why(line: str, reason: str) -> None:
    [row] = parse(HEADER + "\n" + line + "\n")
    assert isinstance(row, RowIssue)
    assert (row.line, row.reason) == (2, reason)


async def test_import_commits_reports_and_skips_duplicates(db: Database) -> None:
    text = "\n".join(
        [
            HEADER,
            "Côté;Léa;fr;12;RUE SAINT-ANDRÉ;3;J6W 1T6;;lea@example.org;514 555-0101;both;yes;"
            "450 555-0102;sms;no;yes;no;yes",
            "Roy;Noah;en;14;RUE INCONNUE;;;;;514 555-0103;voice;;;;;no;yes;no",
            "",  # blank lines are skipped, not reported
            "Côté;Léa;fr;12;RUE SAINT-ANDRÉ;;;;;5145550101;voice;;;;;no;no;no",
        ]
    ).encode()
    service = imports(db)
    status = await service.run_now(text, "people.csv", "tester")
    assert status.state == "done"
    assert (status.total_rows, status.processed) == (3, 3)
    assert (status.accepted, status.duplicates, status.rejected) == (1, 1, 1)
    issues = await service.issues(status.id)
    assert [(i.line, i.kind, i.reason) for i in issues] == [
        (3, "rejected", "street_unknown"),
        (5, "duplicate", "in_file"),
    ]
    page = await ResidentDirectory(db).search(csv_rows_query("Côté"))
    [line] = page.lines
    assert not line.has_password
    file = await ResidentDirectory(db).get(line.id)
    assert file is not None
    assert file.resident.password_hash == IMPORTED_PASSWORD
    contacts = {(c.kind.value, c.number, c.verified, c.active) for c in file.contacts}
    assert contacts == {
        ("voice", "+15145550101", True, True),
        ("sms", "+15145550101", True, True),
        ("sms", "+14505550102", False, False),  # the source did not verify it: inactive
    }
    # Importing the same file again adds nobody: every good row is a registered duplicate.
    again = await service.run_now(text, "people.csv", "tester")
    assert (again.accepted, again.duplicates, again.rejected) == (0, 2, 1)
    duplicates = [i for i in await service.issues(again.id) if i.kind == "duplicate"]
    assert [(i.line, i.reason, i.detail) for i in duplicates] == [
        (2, "registered", "+15145550101"),
        (5, "registered", "+15145550101"),
    ]


def csv_rows_query(text: str) -> ResidentQuery:
    return ResidentQuery(text=text)


async def test_export_round_trips_through_import(db: Database, tmp_path: Path) -> None:
    text = (
        HEADER + "\nGagnon;=cmd;fr;7;RUE PRINCIPALE;;;;;5145550111;both;yes;;;;yes;yes;no\n"
    ).encode()
    status = await imports(db).run_now(text, "a.csv", "t")
    assert status.accepted == 1
    exported = "".join([chunk async for chunk in csv_export.export_csv(db, delimiter=";")])
    assert exported.startswith("\ufeff")
    lines = exported.lstrip("\ufeff").splitlines()
    assert lines[0].split(";")[:3] == ["last_name", "first_name", "language"]
    assert "'=cmd" in lines[1]  # no formula reaches a spreadsheet
    other = await Database.open(tmp_path / "other.sqlite")
    try:
        await load_sample_streets(other, CITY)
        copy = await imports(other).run_now(exported.encode(), "export.csv", "t")
        assert (copy.accepted, copy.rejected) == (1, 0)
        again = "".join([chunk async for chunk in csv_export.export_csv(other, delimiter=";")])
        assert again == exported  # the quote is not doubled: the file is stable
    finally:
        await other.close()


def generated_csv(rows: int, seed: int = 6) -> tuple[bytes, int]:
    """A realistic export with every 10th row broken; returns the bytes and the broken count."""
    rng = random.Random(seed)
    streets = ["RUE SAINT-ANDRÉ", "rue principale", "BOULEVARD DES SEIGNEURS"]
    lines = [HEADER]
    broken = 0
    for i in range(rows):
        phone = f"514{2000000 + i:07d}"
        street = streets[i % 3]
        if i % 10 == 9:
            broken += 1
            street = rng.choice(["", "RUE DE NULLE PART"]) if i % 20 == 9 else street
            phone = phone if i % 20 == 9 else "123"
        lines.append(
            f"Nom{i};Prénom{i};{'en' if i % 3 == 0 else 'fr'};{10 + i};{street};;"
            f";;;{phone};both;yes;;;;{'oui' if i % 2 else 'non'};non;oui"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252"), broken


async def test_ten_thousand_rows(db: Database) -> None:
    data, broken = generated_csv(10_000)
    service = imports(db)
    seen: list[int] = []
    status = await service.run_now(data, "big.csv", "t", lambda s: seen.append(s.processed))
    assert status.encoding == "cp1252"
    assert status.total_rows == 10_000
    assert (status.accepted, status.rejected, status.duplicates) == (10_000 - broken, broken, 0)
    assert seen == sorted(seen)
    assert seen[0] == 500  # one commit per batch, progress after each
    assert len(await service.issues(status.id, limit=100_000)) == broken
    page = await ResidentDirectory(db).search(csv_rows_query(""))
    assert (page.total, page.pages, len(page.lines)) == (10_000 - broken, 180, 50)


async def test_background_import_and_interruption(db: Database) -> None:
    data, _broken = generated_csv(1200)
    service = imports(db)
    import_id = await service.start(data, "bg.csv", "admin")
    await service.wait(import_id)
    status = await service.get(import_id)
    assert status is not None
    assert (status.state, status.processed, status.percent) == ("done", 1200, 100)
    # A stop in the middle: what was committed stays, the import says it was interrupted.
    second = await service.start(generated_csv(1200, seed=7)[0], "bg2.csv", "admin")
    await service.close()
    stopped = await service.get(second)
    assert stopped is not None
    assert stopped.state in {"interrupted", "done"}


_cell = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_digits = st.from_regex(r"\+?1? ?[0-9]{3}[ -]?[0-9]{3}-?[0-9]{4}", fullmatch=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.one_of(_cell, _digits, st.sampled_from(["RUE PRINCIPALE", "oui", "sms"]))),
        max_size=8,
    ),
    st.sampled_from([",", ";", "\t"]),
    st.booleans(),
)
def test_garbage_rows_are_accepted_or_reported(
    rows: list[list[str]], delimiter: str, header: bool
) -> None:
    body = [HEADER.replace(";", delimiter)] if header else []
    body += [delimiter.join(cells) for cells in rows]
    text = "\n".join(body)
    for encoding in ("utf-8", "cp1252"):
        data = text.encode(encoding, errors="replace")
        decoded = csv_rows.decode(data)
        layout, results = csv_rows.parse(
            decoded.text, index(), regions=("CA",), default_language="fr"
        )
        found = list(results)
        assert all(isinstance(r, ImportRow | RowIssue) for r in found)
        assert len(found) >= csv_rows.count_rows(decoded.text, layout) or any(
            isinstance(r, RowIssue) and r.reason == "unreadable" for r in found
        )


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_parser(data: bytes) -> None:
    decoded = csv_rows.decode(data)
    layout, results = csv_rows.parse(decoded.text, index(), regions=("CA",), default_language="fr")
    for result in results:
        assert isinstance(result, ImportRow | RowIssue)
        assert result.line >= 1
    assert csv_rows.count_rows(decoded.text, layout) >= 0


def test_the_readme_example_imports_cleanly() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```csv\n", 1)[1].split("```", 1)[0]
    streets = StreetIndex(CITY)
    streets.add(1, CITY, "RUE SAINT-ANDRÉ")
    streets.add(2, CITY, "RUE PRINCIPALE")
    _layout, rows = csv_rows.parse(example, streets, regions=("CA",), default_language="fr")
    found = list(rows)
    assert [type(r) for r in found] == [ImportRow, ImportRow], found
