"""Residents CSV (another system's export) → checked rows or (line, reason) issues.

The format is documented in the README ("Residents CSV"). Decoding: UTF-8 (with or without a
BOM), else Windows-1252, what a spreadsheet's "CSV (Windows)" writes. Delimiter: `;` or `,`
(tab too), sniffed from the first lines. A header row is recognised by its column names
(English or French); without one, the documented column order is assumed. Nothing here
touches the database: the street list is handed in, so the parser is a pure function that
hypothesis can throw garbage at.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from gateway.residents.errors import InvalidField, InvalidNumber
from gateway.residents.models import LANGUAGES, ContactKind, Profile, clean_profile
from gateway.residents.phones import normalize

MAX_PHONES = 9  # phone1 … phone9
# The columns around the numbered phone ones, shared with the export (csv_export.py).
PROFILE_COLUMNS: tuple[str, ...] = (
    "last_name",
    "first_name",
    "language",
    "civic_number",
    "street",
    "apartment",
    "postal_code",
    "city",
    "email",
)
CONSENT_COLUMNS: tuple[str, ...] = ("consent_sms", "consent_voice", "consent_neighbours")


def phone_columns(phones: int) -> list[str]:
    """phone1, phone1_type, phone1_verified, … up to `phones` numbers."""
    return [
        f"phone{n}{suffix}" for n in range(1, phones + 1) for suffix in ("", "_type", "_verified")
    ]


# Column order of a file without a header row (two numbers).
DEFAULT_COLUMNS: tuple[str, ...] = (*PROFILE_COLUMNS, *phone_columns(2), *CONSENT_COLUMNS)
# A town of 50,000 people; a larger file is a mistake, and would hold the writer too long.
MAX_ROWS = 200_000
_MAX_CELL = 200
_UNREADABLE = "\x00unreadable"  # marks a record csv could not read (never a real cell)

# Other names the same columns go by in exports (French headers, older systems).
_ALIASES: dict[str, str] = {
    "nom": "last_name",
    "nom_de_famille": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "prenom": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "langue": "language",
    "lang": "language",
    "no_civique": "civic_number",
    "numero_civique": "civic_number",
    "civique": "civic_number",
    "civic": "civic_number",
    "house_number": "civic_number",
    "rue": "street",
    "street_name": "street",
    "app": "apartment",
    "appartement": "apartment",
    "apt": "apartment",
    "unit": "apartment",
    "code_postal": "postal_code",
    "postal": "postal_code",
    "postcode": "postal_code",
    "ville": "city",
    "municipalite": "city",
    "courriel": "email",
    "e_mail": "email",
    "mail": "email",
    "phone": "phone1",
    "phone_type": "phone1_type",
    "telephone": "phone1",
    "type": "phone1_type",
    "verified": "phones_verified",
    "verifie": "phones_verified",
    "numeros_verifies": "phones_verified",
    "consentement_sms": "consent_sms",
    "consent_sms_alerts": "consent_sms",
    "consentement_voix": "consent_voice",
    "consent_voice_alerts": "consent_voice",
    "consentement_voisins": "consent_neighbours",
    "actif": "active",
    "consent_neighbour_alerts": "consent_neighbours",
    "consent_neighbors": "consent_neighbours",
}
_PHONE_COLUMN = re.compile(r"^(?:phone|telephone|tel)_?(\d)(?:_(type|verified|verifie))?$")
_KNOWN = frozenset(
    {
        *PROFILE_COLUMNS,
        *phone_columns(MAX_PHONES),
        *CONSENT_COLUMNS,
        "phones_verified",
        "active",
    }
)
_TRUE = frozenset({"1", "yes", "y", "oui", "o", "true", "vrai", "x", "t"})
_FALSE = frozenset({"", "0", "no", "n", "non", "false", "faux", "f"})
_LANGUAGE_WORDS = {
    "fr": "fr",
    "f": "fr",
    "francais": "fr",
    "french": "fr",
    "en": "en",
    "e": "en",
    "a": "en",
    "anglais": "en",
    "english": "en",
}
_TYPE_WORDS: dict[str, tuple[ContactKind, ...]] = {
    "voice": (ContactKind.VOICE,),
    "voix": (ContactKind.VOICE,),
    "call": (ContactKind.VOICE,),
    "appel": (ContactKind.VOICE,),
    "landline": (ContactKind.VOICE,),
    "fixe": (ContactKind.VOICE,),
    "sms": (ContactKind.SMS,),
    "texto": (ContactKind.SMS,),
    "text": (ContactKind.SMS,),
    "both": (ContactKind.VOICE, ContactKind.SMS),
    "les_deux": (ContactKind.VOICE, ContactKind.SMS),
    "sms_voice": (ContactKind.VOICE, ContactKind.SMS),
    "voice_sms": (ContactKind.VOICE, ContactKind.SMS),
    "mobile": (ContactKind.VOICE, ContactKind.SMS),
    "cellulaire": (ContactKind.VOICE, ContactKind.SMS),
    # An export that does not say: a call reaches mobiles and landlines alike.
    "": (ContactKind.VOICE,),
}


@dataclass(frozen=True, slots=True)
class Decoded:
    """The file as text, and how it was read (shown in the report)."""

    text: str
    encoding: str


@dataclass(frozen=True, slots=True)
class PhoneEntry:
    """One number of a row: E.164, how it is reached, and whether the source verified it."""

    number: str
    kinds: tuple[ContactKind, ...]
    verified: bool


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A row that passed every check, ready to insert; `phones[0]` is the login number."""

    line: int
    profile: Profile
    phones: tuple[PhoneEntry, ...]
    active: bool = True


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A row not taken: its line in the file, a reason code, and the column or value."""

    line: int
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Layout:
    """What the first lines told: delimiter, header (or not), column names, ignored ones."""

    delimiter: str
    has_header: bool
    columns: tuple[str, ...]
    ignored: tuple[str, ...] = ()


@dataclass
class StreetIndex:
    """Street ids by normalised name (and city), to match what another system typed."""

    default_city: str
    _by_name: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, street_id: int, city: str, name: str) -> None:
        """Index one street of the town's list."""
        self._by_name.setdefault(fold(name), []).append((fold(city), street_id))

    def find(self, name: str, city: str) -> int | None:
        """The street id, or None when unknown or ambiguous across cities."""
        found = self._by_name.get(fold(name), [])
        if len(found) == 1:
            return found[0][1]
        wanted = fold(city or self.default_city)
        matches = [street_id for street_city, street_id in found if street_city == wanted]
        return matches[0] if len(matches) == 1 else None


def fold(text: str) -> str:
    """'  Rue  Saint-André ' → 'RUE SAINT-ANDRE': case, accents and spacing do not matter."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.upper().split())


def decode(data: bytes) -> Decoded:
    """UTF-8 (BOM or not), else Windows-1252 (every byte maps to something, bad ones to �)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return Decoded(data[3:].decode("utf-8", errors="replace"), "utf-8-sig")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return Decoded(data.decode("cp1252", errors="replace"), "cp1252")


def column_key(raw: str) -> str:
    """A header cell as a column name: 'Prénom' → 'first_name', 'Téléphone 2' → 'phone2'."""
    key = re.sub(r"[^a-z0-9]+", "_", fold(raw).lower()).strip("_")
    key = _ALIASES.get(key, key)
    phone = _PHONE_COLUMN.match(key)
    if phone is not None:
        suffix = phone.group(2)
        suffix = "" if suffix is None else "_type" if suffix == "type" else "_verified"
        key = f"phone{phone.group(1)}{suffix}"
    return key


def sniff_layout(text: str) -> Layout:
    """Delimiter from the first lines; a header when at least three cells name columns."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    sample = "\n".join(lines)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        delimiter = max((";", ",", "\t"), key=first.count) if first else ","
    first_cells = next(_records(lines[0], delimiter), (0, []))[1] if lines else []
    keys = [column_key(cell) for cell in first_cells]
    if sum(key in _KNOWN for key in keys) >= 3:
        ignored = tuple(
            cell for cell, key in zip(first_cells, keys, strict=True) if key not in _KNOWN
        )
        return Layout(delimiter, True, tuple(keys), ignored)
    return Layout(delimiter, False, DEFAULT_COLUMNS)


def parse(
    text: str,
    streets: StreetIndex,
    *,
    regions: Sequence[str],
    default_language: str,
) -> tuple[Layout, Iterator[ImportRow | RowIssue]]:
    """The layout, and one ImportRow or RowIssue per non-empty data line, lazily."""
    layout = sniff_layout(text)
    return layout, _rows(text, layout, streets, tuple(regions), default_language)


def count_rows(text: str, layout: Layout) -> int:
    """Data rows (non-empty records), for the progress bar's total."""
    rows = sum(
        1 for _line, cells in _records(text, layout.delimiter) if any(c.strip() for c in cells)
    )
    return max(0, rows - (1 if layout.has_header else 0))


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per record; an unreadable record gives ['\x00error', message]."""
    # newline="": csv sees the file's own line ends, lone CRs included.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a NUL byte, a stray quote, a line end in a field …
            yield reader.line_num, [_UNREADABLE, str(exc)[:_MAX_CELL]]
            continue
        yield reader.line_num, cells


def _rows(
    text: str, layout: Layout, streets: StreetIndex, regions: tuple[str, ...], language: str
) -> Iterator[ImportRow | RowIssue]:
    header_pending = layout.has_header
    rows = 0
    for line, cells in _records(text, layout.delimiter):
        if not any(cell.strip() for cell in cells):
            continue
        if header_pending:
            header_pending = False
            continue
        rows += 1
        if rows > MAX_ROWS:
            yield RowIssue(line, "too_many", str(MAX_ROWS))
            return
        if cells[0] == _UNREADABLE:
            yield RowIssue(line, "unreadable", cells[1])
            continue
        yield check_row(
            line, cells, layout.columns, streets, regions=regions, default_language=language
        )


def check_row(
    line: int,
    cells: Sequence[str],
    columns: Sequence[str],
    streets: StreetIndex,
    *,
    regions: tuple[str, ...],
    default_language: str,
) -> ImportRow | RowIssue:
    """Every check of one row; the first problem found is the reason given."""
    if len(cells) > len(columns) + 20:
        return RowIssue(line, "columns", str(len(cells)))
    values = {name: cells[i].strip() for i, name in enumerate(columns) if i < len(cells)}
    for name, value in values.items():
        if len(value) > _MAX_CELL:
            return RowIssue(line, "too_long", name)
    get = values.get
    if not get("last_name") and not get("first_name"):
        return RowIssue(line, "name", "last_name")
    language = _LANGUAGE_WORDS.get(fold(get("language", "")).lower())
    if get("language") and language is None:
        return RowIssue(line, "language", get("language", ""))
    street_name = get("street", "")
    if not street_name:
        return RowIssue(line, "street_missing", "street")
    city = get("city", "") or streets.default_city
    street_id = streets.find(street_name, city)
    if street_id is None:
        return RowIssue(line, "street_unknown", street_name)
    consents: dict[str, bool] = {}
    for name in ("consent_sms", "consent_voice", "consent_neighbours"):
        flag = _flag(get(name, ""))
        if flag is None:
            return RowIssue(line, "consent", name)
        consents[name] = flag
    active = _flag(get("active", "yes") or "yes")
    if active is None:
        return RowIssue(line, "active", get("active", ""))
    phones = _phones(values, regions)
    if isinstance(phones, RowIssue):
        return RowIssue(line, phones.reason, phones.detail)
    try:
        profile = clean_profile(
            Profile(
                last_name=get("last_name", ""),
                first_name=get("first_name", ""),
                language=language or (default_language if default_language in LANGUAGES else "fr"),
                city=city,
                civic_number=get("civic_number", ""),
                street_id=street_id,
                apartment=get("apartment", ""),
                postal_code=get("postal_code", ""),
                email=get("email", ""),
                consent_sms_alerts=consents["consent_sms"],
                consent_voice_alerts=consents["consent_voice"],
                consent_neighbour_alerts=consents["consent_neighbours"],
            ),
            required=False,
        )
    except InvalidField as exc:
        return RowIssue(line, exc.field, get(exc.field, ""))
    return ImportRow(line, profile, phones, active)


def _phones(
    values: Mapping[str, str], regions: tuple[str, ...]
) -> tuple[PhoneEntry, ...] | RowIssue:
    """phone1…phone9 with their type and verified flag; at least one is needed."""
    row_verified = _flag(values.get("phones_verified", ""))
    if row_verified is None:
        return RowIssue(0, "verified", "phones_verified")
    found: dict[str, PhoneEntry] = {}
    for n in range(1, MAX_PHONES + 1):
        raw = values.get(f"phone{n}", "")
        kind_word = re.sub(r"[^a-z]+", "_", fold(values.get(f"phone{n}_type", "")).lower())
        if not raw:
            continue
        kinds = _TYPE_WORDS.get(kind_word.strip("_"))
        if kinds is None:
            return RowIssue(0, "phone_type", f"phone{n}_type")
        verified = _flag(values.get(f"phone{n}_verified", ""))
        if verified is None:
            return RowIssue(0, "verified", f"phone{n}_verified")
        try:
            number = normalize(raw, regions)
        except InvalidNumber:
            return RowIssue(0, "phone", raw)
        previous = found.get(number)
        if previous is not None:  # the same number twice in one row: merge its kinds
            kinds = tuple(dict.fromkeys((*previous.kinds, *kinds)))
            verified = verified or previous.verified
        found[number] = PhoneEntry(number, kinds, verified or row_verified)
    if not found:
        return RowIssue(0, "phone_missing", "phone1")
    return tuple(found.values())


def _flag(raw: str) -> bool | None:
    """yes/no in English or French, 1/0, x; None when it is neither."""
    word = fold(raw).lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None
