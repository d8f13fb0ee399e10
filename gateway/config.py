"""Configuration: one TOML file, every setting declared once with its default and description.

Settings are data (as in Datasette): the README's settings table is checked against `SETTINGS`
by a test, and a wrong value is reported with its key, never as a traceback.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gateway.networks import DEFAULT_ALLOWED_NETWORKS

DEFAULT_CONFIG_PATH: Final = Path("/etc/tocsin/tocsin.toml")
_E164: Final = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_USSD: Final = re.compile(r"[*#][0-9*#]{1,30}#")


class ConfigError(ValueError):
    """The configuration is unusable; the message names the key."""


@dataclass(frozen=True)
class Setting:
    key: str  # dotted: section.name
    default: Any
    description: str
    kind: type = str


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("town.name", "Ville de Démo", "The town's name, spoken and written in messages."),
    Setting("town.region", "CA", "Country code (ISO 3166) whose phone numbers residents may use."),
    Setting("town.language", "fr", "Default language of residents and pages: fr or en."),
    Setting("town.contact_number", "", "Town office number given in HELP replies and pages."),
    Setting("storage.path", "/var/lib/tocsin/tocsin.sqlite", "The SQLite database file."),
    Setting(
        "backup.interval_s",
        86400.0,
        "How often the running gateway backs the database up (s); 0: never.",
        float,
    ),
    Setting("backup.dir", "", "Where backups go (empty: backups beside the database)."),
    Setting("backup.keep", 7, "Backups kept; older ones are deleted.", int),
    Setting("web.host", "127.0.0.1", "Address the web pages are served on."),
    Setting("web.port", 8080, "Port the web pages are served on.", int),
    Setting(
        "web.tls",
        "auto",
        "HTTPS: auto (on unless web.host is loopback), on, or off.",
    ),
    Setting(
        "web.tls_dir",
        "/var/lib/tocsin/tls",
        "Where the certificate and key live (a self-signed pair is made on first run).",
    ),
    Setting("residents.city", "Ville de Démo", "City preselected on the profile page."),
    Setting("residents.otp_valid_s", 600.0, "Lifetime of a one-time code (s).", float),
    Setting("residents.otp_max_tries", 5, "Wrong tries that kill a one-time code.", int),
    Setting(
        "residents.voice_fallback_s",
        0.0,
        "Call with an SMS code still unused after this long (s); 0: off.",
        float,
    ),
    Setting(
        "residents.budget_number_15min",
        3,
        "Codes or notices one number may trigger per 15 minutes.",
        int,
    ),
    Setting(
        "residents.budget_number_day", 10, "Codes or notices one number may trigger per day.", int
    ),
    Setting(
        "residents.budget_ip_hour",
        20,
        "Codes or notices one client address may trigger per hour.",
        int,
    ),
    Setting("residents.budget_global_hour", 300, "Town-wide codes or notices per hour.", int),
    Setting("residents.session_idle_s", 1800.0, "Session idle timeout (s).", float),
    Setting("residents.session_absolute_s", 43200.0, "Session absolute timeout (s).", float),
    Setting("residents.captcha_max_number", 100000, "ALTCHA proof-of-work difficulty.", int),
    Setting(
        "residents.signin_number_failures",
        5,
        "Failed sign-ins for one number (in a day) before it is locked for a while.",
        int,
    ),
    Setting(
        "residents.signin_client_failures",
        20,
        "Failed sign-ins from one client address (in a day) before it is locked for a while.",
        int,
    ),
    Setting(
        "residents.signin_lock_s",
        60.0,
        "First sign-in lock (s); it doubles with each further failure, up to a day.",
        float,
    ),
    Setting("dispatch.max_attempts", 5, "Send attempts before a message fails.", int),
    Setting("dispatch.retry_base_s", 30.0, "First retry delay after a transient error (s).", float),
    Setting(
        "dispatch.retry_max_s",
        1800.0,
        "Longest delay between two retries of one message (s).",
        float,
    ),
    Setting("dispatch.watchdog_interval_s", 30.0, "How often an idle modem is checked (s).", float),
    Setting(
        "dispatch.block_after_failures",
        3,
        "Consecutive failures after which a modem is taken out of rotation.",
        int,
    ),
    Setting(
        "dispatch.sim_block_s",
        3600.0,
        "How long a modem whose SIM cannot send (no credit, barred) stays out (s).",
        float,
    ),
    Setting(
        "dispatch.block_s", 300.0, "How long a failing modem stays out of rotation (s).", float
    ),
    Setting("calls.ring_timeout_s", 40.0, "How long a call rings before we hang up (s).", float),
    Setting("calls.repeats", 3, "Times a call plays its message when no key confirms it.", int),
    Setting("calls.listen_s", 6.0, "How long a call waits for a key after the message (s).", float),
    Setting("calls.busy_retries", 3, "Calls retried after a busy line, per message.", int),
    Setting("calls.busy_retry_s", 180.0, "Delay before calling a busy line again (s).", float),
    Setting(
        "calls.no_answer_retries",
        1,
        "Calls retried when nobody answered or the callee hung up early, per message.",
        int,
    ),
    Setting(
        "calls.no_answer_retry_s", 600.0, "Delay before calling again after no answer (s).", float
    ),
    Setting(
        "calls.speech_cache",
        "",
        "Directory of rendered speech (empty: speech-cache beside the database).",
    ),
    Setting(
        "admin.allowed_networks",
        list(DEFAULT_ALLOWED_NETWORKS),
        "Client networks (CIDR) the admin pages answer; others get 404.",
        list,
    ),
    Setting("admin.session_idle_s", 1800.0, "Admin session idle timeout (s).", float),
    Setting("admin.session_absolute_s", 43200.0, "Admin session absolute timeout (s).", float),
    Setting(
        "campaigns.emergency_overrides_consent",
        False,
        "Emergency alerts also reach residents who did not consent (shown in the preview).",
        bool,
    ),
    Setting(
        "campaigns.valid_s",
        21600.0,
        "An alert's messages not sent within this long expire (s).",
        float,
    ),
    # Issue 6 extras: time zone, quiet hours, scheduling, the staff second factor.
    Setting(
        "town.timezone",
        "America/Toronto",
        "The town's time zone (IANA name): quiet hours and scheduled alerts use its clock.",
    ),
    Setting(
        "campaigns.quiet_hours",
        "",
        "Window (HH:MM-HH:MM, town time) in which information alerts wait; empty: none.",
    ),
    Setting(
        "admin.totp_max_failures",
        5,
        "Wrong second-factor codes in a row before the account stops taking codes.",
        int,
    ),
    Setting(
        "admin.totp_lockout_s",
        900.0,
        "How long an account takes no second-factor code after too many wrong ones (s).",
        float,
    ),
    # ---- HTTP API and webhooks (issue 6)
    Setting(
        "api.allowed_networks",
        list(DEFAULT_ALLOWED_NETWORKS),
        "Client networks (CIDR) the HTTP API answers (/api/v1); others get 404.",
        list,
    ),
    Setting(
        "api.requests_per_minute",
        60,
        "Requests one API token may make per minute; 0: no limit.",
        int,
    ),
    Setting("api.sms_valid_s", 3600.0, "An API SMS not sent within this long expires (s).", float),
    Setting("webhooks.urls", [], "Addresses that receive signed webhook POSTs (none: off).", list),
    Setting("webhooks.secret", "", "Shared secret of the webhook signatures (required with urls)."),
    Setting(
        "webhooks.events",
        ["sms.received", "message.status"],
        "Events posted: sms.received, message.status (API messages only).",
        list,
    ),
    Setting("webhooks.max_attempts", 8, "Delivery attempts before a webhook is given up.", int),
    Setting("webhooks.retry_base_s", 10.0, "First retry delay; doubles each time (s).", float),
    Setting("webhooks.retry_max_s", 3600.0, "Longest delay between two attempts (s).", float),
    Setting("webhooks.timeout_s", 10.0, "How long one POST may take (s).", float),
    Setting("webhooks.concurrency", 4, "POSTs in flight at once.", int),
    Setting("town.website", "", "Address of the resident pages, told to unknown texters."),
    Setting(
        "neighbours.sender_per_hour", 3, "Neighbour alerts one resident may start per hour.", int
    ),
    Setting("neighbours.zone_per_hour", 10, "Neighbour alerts relayed in one zone per hour.", int),
    Setting("neighbours.max_chars", 320, "Longest relayed text, name included (characters).", int),
    Setting("neighbours.max_segments", 3, "Most SMS parts one relayed alert may take.", int),
    Setting("neighbours.moderation", False, "Alerts wait for an admin's approval.", bool),
    Setting("neighbours.relay_valid_s", 21600.0, "A relay not sent by then expires (s).", float),
    Setting("inbound.replies_per_day", 5, "Automatic SMS replies one number gets per day.", int),
    Setting("email.host", "", "SMTP server for neighbour-alert copies; empty: no email."),
    Setting("email.port", 587, "SMTP port.", int),
    Setting("email.tls", "starttls", "SMTP encryption: none, starttls or tls."),
    Setting("email.user", "", "SMTP user name; empty: no login."),
    Setting("email.password", "", "SMTP password."),
    Setting("email.from", "", "Sender address of neighbour-alert copies."),
    Setting("email.max_attempts", 5, "Send attempts before an email copy fails.", int),
    Setting("email.retry_base_s", 30.0, "First retry delay after an SMTP error (s).", float),
    Setting("email.timeout_s", 30.0, "SMTP connection and command timeout (s).", float),
    # ---- health page, alarms and /metrics (issue 8)
    Setting(
        "health.balance_check_s",
        21600.0,
        "How often each SIM's balance is asked by USSD (s); 0: only from the health page.",
        float,
    ),
    Setting(
        "health.low_credit",
        5.0,
        "A SIM balance under this amount (its own currency) raises a credit-low alarm.",
        float,
    ),
    Setting("health.check_interval_s", 30.0, "How often the alarms are evaluated (s).", float),
    Setting("alarms.modem_down_s", 120.0, "A modem down this long raises an alarm (s).", float),
    Setting(
        "alarms.queue_stuck_s",
        600.0,
        "A message due this long while no modem sends raises an alarm (s).",
        float,
    ),
    Setting(
        "alarms.disk_low_mb",
        200,
        "Free space of the database's disk under which an alarm is raised (MB).",
        int,
    ),
    Setting(
        "alarms.event_hold_s",
        3600.0,
        "How long a one-off alarm (budget exceeded, SIM refused) stays on the banner (s).",
        float,
    ),
    Setting("alarms.sms_to", [], "Admin numbers (E.164) that get alarms by SMS.", list),
    Setting(
        "alarms.email_to", [], "Admin addresses that get alarms by email (email.* server).", list
    ),
    Setting(
        "alarms.repeat_s",
        3600.0,
        "Least time between two notices of the same alarm (s): a flapping modem is told once.",
        float,
    ),
    Setting(
        "metrics.token",
        "",
        "If set, /metrics also wants the header Authorization: Bearer <token>.",
    ),
    # Retention purge (gateway/retention.py), daily; 0 keeps forever.
    Setting(
        "retention.neighbour_alert_days",
        90,
        "Days neighbour alerts (texts and relays) are kept once relayed or refused; 0: forever.",
        int,
    ),
    Setting(
        "retention.inbound_days",
        90,
        "Days received SMS are kept once routed; 0: forever.",
        int,
    ),
    Setting("retention.audit_days", 365, "Days audit-log entries are kept; 0: forever.", int),
    Setting(
        "retention.message_body_days",
        30,
        "Days the text of a finished outgoing message is kept (the row stays); 0: forever.",
        int,
    ),
    Setting(
        "retention.inactive_account_days",
        0,
        "Days after which an unused account goes: residents with nothing to receive alerts on "
        "and no sign-in are deleted, staff not signed in are disabled; 0: never.",
        int,
    ),
)

MODEM_SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("port", None, "Serial port; prefer the stable /dev/serial/by-id/... path."),
    Setting("name", "", "A short name shown in logs and on the health page."),
    Setting("baudrate", 115200, "Serial speed.", int),
    Setting("rtscts", False, "Hardware flow control (off: bare SIM800 UARTs lack RTS/CTS).", bool),
    Setting("pin", "", "SIM PIN, if the SIM asks for one."),
    Setting("channels", ["sms"], "What this modem serves: sms, voice.", list),
    Setting("audio_port", "", "The modem's audio tty, for PCM voice (SIM7600, EC25, E3372)."),
    Setting("per_minute", None, "Most SMS parts this SIM may send in a minute.", int),
    Setting("per_hour", None, "Most SMS parts this SIM may send in an hour.", int),
    Setting("per_day", None, "Most SMS parts this SIM may send in a day.", int),
    Setting(
        "balance_ussd", "", "USSD code that asks this SIM's balance (e.g. *100#); empty: none."
    ),
)


@dataclass(frozen=True)
class ModemSettings:
    port: str
    name: str = ""
    baudrate: int = 115200
    rtscts: bool = False
    pin: str = ""
    channels: tuple[str, ...] = ("sms",)
    audio_port: str = ""
    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None
    balance_ussd: str = ""


@dataclass(frozen=True)
class Config:
    values: dict[str, Any]
    modems: tuple[ModemSettings, ...] = field(default_factory=tuple)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get_float(self, key: str) -> float:
        return float(self.values[key])

    def get_int(self, key: str) -> int:
        return int(self.values[key])

    def get_str(self, key: str) -> str:
        return str(self.values[key])


def load(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read `path` (defaults for everything absent) and apply dotted-key overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such configuration file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return from_mapping(raw, overrides)


def from_mapping(raw: dict[str, Any], overrides: dict[str, Any] | None = None) -> Config:
    known = {s.key: s for s in SETTINGS}
    values = {s.key: s.default for s in SETTINGS}
    modems_raw = raw.pop("modems", []) if isinstance(raw.get("modems"), list) else []
    for section, body in raw.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{section}: expected a [{section}] table")
        for name, value in body.items():
            key = f"{section}.{name}"
            if key not in known:
                raise ConfigError(f"{key}: unknown setting")
            values[key] = _coerce(known[key], key, value)
    for key, value in (overrides or {}).items():
        if key not in known:
            raise ConfigError(f"{key}: unknown setting")
        values[key] = _coerce(known[key], key, value)
    _check_alarm_contacts(values)
    modems = tuple(_modem(i, m) for i, m in enumerate(modems_raw))
    _check_clock_settings(values)
    return Config(values, modems)


def _check_alarm_contacts(values: dict[str, Any]) -> None:
    """Admin numbers must be E.164 and addresses look like addresses: a typo loses alarms."""
    for number in values["alarms.sms_to"]:
        if not isinstance(number, str) or not _E164.fullmatch(number):
            raise ConfigError(f"alarms.sms_to: {number!r} is not an E.164 number (+15145550100)")
    for address in values["alarms.email_to"]:
        if not isinstance(address, str) or not _EMAIL.fullmatch(address):
            raise ConfigError(f"alarms.email_to: {address!r} is not an email address")


def _check_clock_settings(values: dict[str, Any]) -> None:
    """The time zone and quiet hours are checked at load, not when the first alert is sent."""
    from gateway.campaigns.quiet import QuietHours  # noqa: PLC0415 - pure, but a subpackage
    from gateway.campaigns.settings import parse_timezone  # noqa: PLC0415

    try:
        zone = parse_timezone(str(values["town.timezone"]))
        QuietHours.parse(str(values["campaigns.quiet_hours"]), zone)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _modem(index: int, body: Any) -> ModemSettings:
    where = f"modems[{index}]"
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: expected a [[modems]] table")
    known = {s.key: s for s in MODEM_SETTINGS}
    kwargs: dict[str, Any] = {}
    for name, value in body.items():
        if name not in known:
            raise ConfigError(f"{where}.{name}: unknown setting")
        kwargs[name] = _coerce(known[name], f"{where}.{name}", value)
    if not kwargs.get("port"):
        raise ConfigError(f"{where}.port: required")
    for name in ("channels",):
        if name in kwargs:
            kwargs[name] = tuple(str(v) for v in kwargs[name])
    code = kwargs.get("balance_ussd", "")
    if code and not _USSD.fullmatch(code):
        raise ConfigError(f"{where}.balance_ussd: {code!r} is not a USSD code such as *100#")
    bad = set(kwargs.get("channels", ())) - {"sms", "voice"}
    if bad:
        raise ConfigError(f"{where}.channels: unknown channel(s) {sorted(bad)}")
    return ModemSettings(**kwargs)


def _coerce(setting: Setting, key: str, value: Any) -> Any:
    kind = setting.kind
    if value is None:
        return None
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{key}: must not be negative")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{key}: must not be negative")
        return float(value)
    if kind is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected text, got {value!r}")
    return value
