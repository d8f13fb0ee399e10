"""Who an alert reaches: the target as data, the residents it matches, consent and dedup."""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from gateway.campaigns.models import Recipient

try:  # STOP list of the inbound package (issue 3), consulted in SQL, no call per number
    from gateway.inbound.lists import OPTED_OUT_SUBQUERY

    _STOPPED: str = f"c.kind = 'sms' AND c.number IN ({OPTED_OUT_SUBQUERY})"
except ImportError:  # pragma: no cover - a tree without the inbound package
    _STOPPED = "0"


class TargetKind(enum.StrEnum):
    """The four ways staff pick residents."""

    EVERYONE = "everyone"
    ZONES = "zones"
    STREETS = "streets"
    RANGE = "range"  # a civic-number range on one street


class Parity(enum.StrEnum):
    """Which side of a street a civic-number range covers (odd and even sides face)."""

    ALL = "all"
    ODD = "odd"
    EVEN = "even"


class TargetError(ValueError):
    """A target the page must ask again for; `code` names the problem."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Target:
    """Stored as JSON on the campaign, so the report says whom it was for."""

    kind: TargetKind
    zone_ids: tuple[int, ...] = ()
    street_ids: tuple[int, ...] = ()
    street_id: int | None = None
    civic_from: int | None = None
    civic_to: int | None = None
    parity: Parity = Parity.ALL

    def __post_init__(self) -> None:
        if self.kind is TargetKind.ZONES and not self.zone_ids:
            raise TargetError("zones")
        if self.kind is TargetKind.STREETS and not self.street_ids:
            raise TargetError("streets")
        if self.kind is TargetKind.RANGE:
            low, high = self.civic_from, self.civic_to
            if self.street_id is None or low is None or high is None or low > high:
                raise TargetError("range")

    def to_json(self) -> str:
        """The campaign.target column."""
        return json.dumps(
            {
                "kind": self.kind.value,
                "zone_ids": list(self.zone_ids),
                "street_ids": list(self.street_ids),
                "street_id": self.street_id,
                "civic_from": self.civic_from,
                "civic_to": self.civic_to,
                "parity": self.parity.value,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Target:
        """Back from the campaign.target column."""
        raw = json.loads(text)
        return cls(
            kind=TargetKind(raw["kind"]),
            zone_ids=tuple(int(i) for i in raw.get("zone_ids", ())),
            street_ids=tuple(int(i) for i in raw.get("street_ids", ())),
            street_id=raw.get("street_id"),
            civic_from=raw.get("civic_from"),
            civic_to=raw.get("civic_to"),
            parity=Parity(raw.get("parity", "all")),
        )

    def where(self) -> tuple[str, list[object]]:
        """SQL over `resident r LEFT JOIN street s`, and its parameters."""
        if self.kind is TargetKind.ZONES:
            marks = ", ".join("?" * len(self.zone_ids))
            return f"s.zone_id IN ({marks})", list(self.zone_ids)
        if self.kind is TargetKind.STREETS:
            marks = ", ".join("?" * len(self.street_ids))
            return f"r.street_id IN ({marks})", list(self.street_ids)
        if self.kind is TargetKind.RANGE:
            # CAST keeps the leading digits: "12A" is number 12.
            number = "CAST(r.civic_number AS INTEGER)"
            side = {
                Parity.ALL: "",
                Parity.ODD: f" AND {number} % 2 = 1",
                Parity.EVEN: f" AND {number} % 2 = 0",
            }[self.parity]
            return (
                f"r.street_id = ? AND r.civic_number <> '' AND {number} BETWEEN ? AND ?{side}",
                [self.street_id, self.civic_from, self.civic_to],
            )
        return "1", []


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """One active contact of a matched resident, with what the plan needs to judge it."""

    resident_id: int
    name: str
    language: str
    consent_sms: bool
    consent_voice: bool
    kind: str
    number: str
    opted_out: bool = False  # an SMS number that texted STOP


@dataclass(frozen=True, slots=True)
class Plan:
    """The deduplicated recipients and what was left out, for the preview."""

    recipients: tuple[Recipient, ...]
    residents_reached: int
    duplicates_merged: int
    without_consent: int
    opted_out: int
    per_kind: dict[str, int] = field(default_factory=dict)


def select_contacts(conn: sqlite3.Connection, target: Target) -> tuple[int, list[ContactPoint]]:
    """Residents the target matches (count), and their active contact points."""
    where, params = target.where()
    where = f"r.active = 1 AND ({where})"  # staff deactivated the others: no alert reaches them
    matched = conn.execute(
        f"SELECT count(*) FROM resident r LEFT JOIN street s ON s.id = r.street_id WHERE {where}",
        params,
    ).fetchone()[0]
    rows = conn.execute(
        "SELECT r.id, r.first_name, r.last_name, r.language, r.consent_sms_alerts,"
        f" r.consent_voice_alerts, c.kind, c.number, {_STOPPED}"
        " FROM resident r JOIN contact c ON c.resident_id = r.id AND c.active = 1"
        f" LEFT JOIN street s ON s.id = r.street_id WHERE {where} ORDER BY r.id, c.id",
        params,
    ).fetchall()
    points = [
        ContactPoint(
            resident_id=int(row[0]),
            name=f"{row[1]} {row[2]}".strip() or f"#{row[0]}",
            language=str(row[3]),
            consent_sms=bool(row[4]),
            consent_voice=bool(row[5]),
            kind=str(row[6]),
            number=str(row[7]),
            opted_out=bool(row[8]),
        )
        for row in rows
    ]
    return int(matched), points


def plan(
    points: Iterable[ContactPoint],
    kinds: Sequence[str],
    *,
    override_consent: bool,
    default_language: str = "fr",
) -> Plan:
    """One recipient per (channel, number): consent and STOP first, then each number once."""
    # A number shared by residents of different languages gets the town's default language.
    groups: dict[tuple[str, str], list[ContactPoint]] = {}
    without_consent = 0
    stopped = 0
    for point in points:
        if point.kind not in kinds:
            continue
        consent = point.consent_sms if point.kind == "sms" else point.consent_voice
        if not consent and not override_consent:
            without_consent += 1
            continue
        if point.opted_out:
            stopped += 1
            continue
        groups.setdefault((point.kind, point.number), []).append(point)
    recipients: list[Recipient] = []
    reached: set[int] = set()
    kept = 0
    per_kind = dict.fromkeys(kinds, 0)
    for (kind, number), group in groups.items():
        kept += len(group)
        languages = {point.language for point in group}
        language = languages.pop() if len(languages) == 1 else default_language
        names = tuple(dict.fromkeys(point.name for point in group))
        reached.update(point.resident_id for point in group)
        per_kind[kind] += 1
        recipients.append(Recipient(kind, number, language, names))
    return Plan(
        recipients=tuple(recipients),
        residents_reached=len(reached),
        duplicates_merged=kept - len(recipients),
        without_consent=without_consent,
        opted_out=stopped,
        per_kind=per_kind,
    )
