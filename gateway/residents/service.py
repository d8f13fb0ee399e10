"""Registration, sign-in, password reset, contacts and account deletion, as the web calls them."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.events import EventBus
from gateway.outbox import Channel, MessageClass, NewMessage, Outbox
from gateway.residents import passwords
from gateway.residents.budgets import SendBudgets
from gateway.residents.codes import CODE_DIGITS, CodeCheck, OneTimeCodes, Purpose
from gateway.residents.directory import ResidentDirectory
from gateway.residents.erase import erase_resident
from gateway.residents.errors import InvalidNumber, ResidentError
from gateway.residents.imports import ResidentImports
from gateway.residents.keys import Keyring
from gateway.residents.models import Contact, ContactKind, Resident
from gateway.residents.phones import normalize, spellings
from gateway.residents.repository import Residents
from gateway.residents.sessions import Session, Sessions
from gateway.residents.settings import ResidentSettings
from gateway.residents.streets import Streets
from gateway.residents.texts import code_message, notice_message
from gateway.residents.throttle import SignInThrottle
from gateway.storage.database import Database
from gateway.storage.times import utc_now

_LOGGER = logging.getLogger(__name__)
_MAX_DESCRIPTION = 80


class CodeRejected(ResidentError):
    """Wrong, used, expired or killed code; one message for all so none is a hint."""

    code = "bad_code"


class WrongPassword(ResidentError):
    """The current password typed on the change-password page is not the right one."""

    code = "wrong_password"


class SignInLocked(ResidentError):
    """Too many failed sign-ins for this number or address: wait. Said the same way whether
    or not the number has an account."""

    code = "locked"


@dataclass(frozen=True, slots=True)
class SignIn:
    """A successful sign-in; `choose_password` when it was with a one-time code."""

    resident: Resident
    choose_password: bool = False


class DuplicateContact(ResidentError):
    """This resident already has this number for this kind."""

    code = "duplicate_contact"


class ResidentService:
    """The residents' use cases; the web layer holds one per app and calls nothing else here."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        bus: EventBus,
        keys: Keyring,
        settings: ResidentSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.residents = Residents(db, clock=clock)
        self.streets = Streets(db)
        self.sessions = Sessions(
            db, idle=settings.session_idle, absolute=settings.session_absolute, clock=clock
        )
        self.codes = OneTimeCodes(
            db, keys, lifetime=settings.otp_lifetime, max_tries=settings.otp_max_tries, clock=clock
        )
        self.budgets = SendBudgets(db, keys, settings, clock=clock)
        self.throttle = SignInThrottle(
            db,
            keys,
            number_limit=settings.signin_number_failures,
            client_limit=settings.signin_client_failures,
            lock_base=settings.signin_lock,
            clock=clock,
        )
        # The admin console's side: the list, one resident's file, imports and their reports.
        self.directory = ResidentDirectory(db, clock=clock)
        self.imports = ResidentImports(db, settings, clock=clock)
        self.db = db
        self._outbox = outbox
        self._bus = bus
        self._clock = clock

    @classmethod
    async def open(
        cls,
        db: Database,
        outbox: Outbox,
        bus: EventBus,
        settings: ResidentSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> ResidentService:
        """Load (or make, on the first run) the server key, then build the service."""
        service = cls(db, outbox, bus, await Keyring.load(db), settings, clock=clock)
        await service.imports.mark_interrupted()
        return service

    def normalize(self, raw: str) -> str:
        """E.164 in the configured regions, or InvalidNumber."""
        return normalize(raw, self.settings.regions)

    async def request_code(
        self, raw_phone: str, purpose: Purpose, channel: Channel, *, client: str, language: str
    ) -> str:
        """Send a registration or reset code; the caller answers the same whatever happened.

        Returns the normalised number. A number that has an account (register) or has none
        (reset) gets a notice instead of a code: the same budget, hashing and queueing work,
        so neither the page nor its timing tells whether the number is registered."""
        phone = self.normalize(raw_phone)
        exceeded = await self.budgets.spend(phone, client)
        if exceeded is not None:
            self._bus.publish(
                "alarm", source="residents", budget=exceeded.value, purpose=purpose.value
            )
            _LOGGER.warning("send budget %s exceeded (%s)", exceeded.value, purpose.value)
            return phone
        resident = await self.residents.by_phone(phone)
        gets_code = (resident is None) == (purpose is Purpose.REGISTER)
        if gets_code:
            code, replaced = await self.codes.replace(phone, purpose)
            await self._cancel_fallback(replaced)
            await self._send_code(phone, purpose, channel, code, language, fallback=True)
        else:
            self.codes.rehearse(phone, purpose)
            await self._send_notice(phone, purpose, channel, language)
        return phone

    async def complete_registration(
        self, phone: str, code: str, password: str, language: str
    ) -> Resident:
        """Check the password rules, then the code; create the resident."""
        self._check_policy(password)
        if await self._check_code(phone, Purpose.REGISTER, code) is not CodeCheck.OK:
            raise CodeRejected(phone)
        resident = await self.residents.create(
            phone, await passwords.hash_password(password), language
        )
        if resident is None:  # registered meanwhile through another code
            raise CodeRejected(phone)
        _LOGGER.info("resident %d registered", resident.id)
        return resident

    async def authenticate(self, raw_phone: str, password: str) -> Resident | None:
        """The resident if the number and password match; the same work when they do not."""
        try:
            phone = self.normalize(raw_phone)
        except InvalidNumber:
            phone = ""
        resident = await self.residents.by_phone(phone) if phone else None
        stored = resident.password_hash if resident is not None else None
        if not await passwords.verify_password(stored, password):
            return None
        if resident is None or not resident.active:  # deactivated by the town's staff
            return None
        await self.residents.mark_login(resident.id)
        return resident

    async def sign_in(
        self, raw_phone: str, secret: str, *, client: str, language: str
    ) -> SignIn | None:
        """The login form: a password, or (as the seed's flow has it) the 6-digit code just
        received after "Nouvel usager" or "Mot de passe oublié?", which then asks for a new
        password. Throttled per number and per address; SignInLocked while locked."""
        try:
            phone = self.normalize(raw_phone)
        except InvalidNumber:
            phone = ""
        counted = phone or " ".join(raw_phone.split())[:40]
        if await self.throttle.locked(counted, client) is not None:
            raise SignInLocked()
        resident = await self.residents.by_phone(phone) if phone else None
        stored = resident.password_hash if resident is not None else None
        # A resident deactivated by the town's staff fails as a wrong password does.
        allowed = resident is None or resident.active
        if await passwords.verify_password(stored, secret) and resident is not None and allowed:
            await self.throttle.succeeded(phone)
            await self.residents.mark_login(resident.id)
            return SignIn(resident)
        # A password is at least 8 characters, so 6 digits can only be a code.
        code = secret.strip()
        if allowed and phone and len(code) == CODE_DIGITS and code.isascii() and code.isdigit():
            signed = await self._sign_in_with_code(phone, code, resident, language)
            if signed is not None:
                await self.throttle.succeeded(phone)
                await self.residents.mark_login(signed.resident.id)
                return signed
        failure = await self.throttle.failed(counted, client)
        for kind in failure.bursts:
            self._bus.publish("alarm", source="residents", budget=f"signin_{kind.value}")
            _LOGGER.warning("failed sign-ins: %s limit reached", kind.value)
        return None

    async def choose_password(
        self, resident: Resident, new_password: str, *, keep: Session | None
    ) -> None:
        """After a sign-in with a code: the password chosen; sessions other than `keep` end."""
        self._check_policy(new_password)
        await self.residents.set_password(resident.id, await passwords.hash_password(new_password))
        await self.sessions.end_all(resident.id, keep=keep)

    async def complete_reset(self, phone: str, code: str, new_password: str) -> Resident:
        """Check the rules, then the code; set the password and end the other sessions."""
        self._check_policy(new_password)
        checked = await self._check_code(phone, Purpose.RESET, code)
        resident = await self.residents.by_phone(phone)
        if checked is not CodeCheck.OK or resident is None or not resident.active:
            raise CodeRejected(phone)
        await self.residents.set_password(resident.id, await passwords.hash_password(new_password))
        await self.residents.verify_login_number(resident.id, phone)
        await self.sessions.end_all(resident.id)
        return resident

    async def change_password(self, resident: Resident, current: str, new_password: str) -> None:
        """The current password is needed; other sessions of the resident end."""
        if not await passwords.verify_password(resident.password_hash, current):
            raise WrongPassword()
        self._check_policy(new_password)
        await self.residents.set_password(resident.id, await passwords.hash_password(new_password))
        await self.sessions.end_all(resident.id)

    async def add_contact(
        self,
        resident: Resident,
        kind: ContactKind,
        raw_number: str,
        description: str,
        *,
        client: str,
        language: str,
    ) -> Contact:
        """Add a contact; a number not yet proved gets a code by the contact's own channel."""
        number = self.normalize(raw_number)
        description = description.strip()[:_MAX_DESCRIPTION]
        verified = await self.residents.number_verified(resident.id, number)
        contact = await self.residents.add_contact(
            resident.id, kind, number, description, verified=verified
        )
        if contact is None:
            raise DuplicateContact(number)
        if not verified:
            await self.send_contact_code(contact, client=client, language=language)
        return contact

    async def send_contact_code(self, contact: Contact, *, client: str, language: str) -> None:
        """(Re)send the verification code of an unverified contact, within the budgets."""
        exceeded = await self.budgets.spend(contact.number, client)
        if exceeded is not None:
            self._bus.publish(
                "alarm", source="residents", budget=exceeded.value, purpose="add_contact"
            )
            return
        code, replaced = await self.codes.replace(contact.number, Purpose.ADD_CONTACT)
        await self._cancel_fallback(replaced)
        channel = Channel.VOICE if contact.kind is ContactKind.VOICE else Channel.SMS
        await self._send_code(contact.number, Purpose.ADD_CONTACT, channel, code, language)

    async def verify_contact(self, resident: Resident, contact_id: int, code: str) -> bool:
        """True when the code matched: the contact is then verified and active."""
        contact = await self.residents.contact(resident.id, contact_id)
        if contact is None:
            return False
        if contact.verified:
            return True
        checked = await self._check_code(contact.number, Purpose.ADD_CONTACT, code)
        if checked is not CodeCheck.OK:
            return False
        await self.residents.verify_contact(resident.id, contact_id)
        return True

    async def export(self, resident_id: int) -> dict[str, Any]:
        """Everything stored about the resident, for "export my data" (no password hash)."""
        resident = await self.residents.get(resident_id)
        if resident is None:
            return {}
        profile = asdict(resident.profile)
        street_id = profile.pop("street_id")
        street = await self.streets.get(street_id) if street_id is not None else None
        profile["street"] = street.name if street is not None else ""
        return {
            "phone": resident.phone,
            "profile": profile,
            "contacts": [
                {
                    "kind": c.kind.value,
                    "number": c.number,
                    "description": c.description,
                    "active": c.active,
                    "verified": c.verified,
                }
                for c in await self.residents.contacts(resident_id)
            ],
            "created_at": resident.created_at.isoformat(),
            "updated_at": resident.updated_at.isoformat(),
        }

    async def delete_account(self, resident_id: int) -> None:
        """The resident and every trace of their numbers: contacts, sessions, codes, budget
        trail, outbox rows, texts received, neighbour alerts and campaign lists."""
        _numbers, exclusive = await self.db.write_fn(lambda conn: erase_resident(conn, resident_id))
        for fallback in await self.codes.forget(exclusive):
            await self._cancel_fallback(fallback)
        await self.budgets.forget(exclusive)
        await self.throttle.forget(exclusive)
        for number in exclusive:
            await self._outbox.forget_destination(number, spellings(number)[1:])
        _LOGGER.info("resident %d deleted their account", resident_id)

    async def _sign_in_with_code(
        self, phone: str, code: str, resident: Resident | None, language: str
    ) -> SignIn | None:
        """A registration code creates the account; a reset code opens the existing one (its
        password stays valid until a new one is chosen)."""
        purpose = Purpose.REGISTER if resident is None else Purpose.RESET
        if await self._check_code(phone, purpose, code) is not CodeCheck.OK:
            return None
        if resident is None:
            # No password yet: an unguessable one until the resident chooses theirs.
            unusable = await passwords.hash_password(secrets.token_urlsafe(32))
            resident = await self.residents.create(phone, unusable, language)
            if resident is None:
                return None
            _LOGGER.info("resident %d registered (signed in with the code)", resident.id)
        return SignIn(resident, choose_password=True)

    def _check_policy(self, password: str) -> None:
        passwords.check_policy(
            password,
            min_length=self.settings.password_min_length,
            max_length=self.settings.password_max_length,
        )

    async def _check_code(self, phone: str, purpose: Purpose, code: str) -> CodeCheck:
        """Check the code; a code this ended (used, expired, killed) takes its call with it."""
        checked, fallback = await self.codes.check_releasing(phone, purpose, code)
        await self._cancel_fallback(fallback)
        return checked

    async def _cancel_fallback(self, message_id: int | None) -> None:
        # Only a queued call can be cancelled: one already ringing is let finish.
        if message_id is not None:
            await self._outbox.cancel(message_id)

    async def _send_code(
        self,
        phone: str,
        purpose: Purpose,
        channel: Channel,
        code: str,
        language: str,
        *,
        fallback: bool = False,
    ) -> None:
        """Queue the code; by SMS, with `fallback`, also a call with it for later (if enabled).

        A contact's code proves that number can receive its own channel, so add_contact asks
        for no fallback: an SMS contact verified by a call might be a landline."""
        lifetime = self.settings.otp_lifetime
        now = self._clock()
        await self._outbox.enqueue(
            NewMessage(
                message_class=MessageClass.OTP,
                channel=channel,
                destination=phone,
                body=self._code_body(purpose, code, channel, language),
                language=language,
                valid_until=now + lifetime,
            )
        )
        delay = self.settings.voice_fallback
        if not fallback or channel is not Channel.SMS or not timedelta(0) < delay < lifetime:
            return
        # Numbers are already restricted to callable types (mobile, fixed, VoIP) by normalize().
        message_id = await self._outbox.enqueue(
            NewMessage(
                message_class=MessageClass.OTP,
                channel=Channel.VOICE,
                destination=phone,
                body=self._code_body(purpose, code, Channel.VOICE, language),
                language=language,
                valid_until=now + lifetime,
                not_before=now + delay,
            )
        )
        if not await self.codes.set_fallback(phone, purpose, code, message_id):
            await self._outbox.cancel(message_id)  # the code went meanwhile
        _LOGGER.info("voice fallback %d queued (%s)", message_id, purpose.value)

    def _code_body(self, purpose: Purpose, code: str, channel: Channel, language: str) -> str:
        return code_message(
            purpose,
            code,
            voice=channel is Channel.VOICE,
            language=language,
            town=self.settings.town_name,
            minutes=int(self.settings.otp_lifetime / timedelta(minutes=1)),
        )

    async def _send_notice(
        self, phone: str, purpose: Purpose, channel: Channel, language: str
    ) -> None:
        # By the channel asked for: a landline asked for a call and cannot read an SMS.
        await self._outbox.enqueue(
            NewMessage(
                message_class=MessageClass.REPLY,
                channel=channel,
                destination=phone,
                body=notice_message(purpose, language=language, town=self.settings.town_name),
                language=language,
                valid_until=self._clock() + self.settings.otp_lifetime,
            )
        )
