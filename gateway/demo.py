"""`tocsin demo`: the real gateway on simulated modems and phones, so it can be tried at once.

Only this module and the CLI's `simulate` command import the simulator: the gateway itself
talks to the simulated modems through their ptys exactly as it would to USB modems.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.api.tokens import ApiTokens
from gateway.campaigns.demo_setup import DEMO_USERNAME, DEMO_ZONES, prepare_admin_demo
from gateway.campaigns.models import Role
from gateway.config import ModemSettings, from_mapping
from gateway.events import Event, EventBus
from gateway.outbox import Channel, MessageClass, NewMessage
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from gateway.tls import is_loopback
from gateway.webserver import serve_web
from modem.simulator import Simulator
from modem.simulator.call_phone import Answer, CallBehaviour

DEMO_CALLERS = (
    CallBehaviour(keys=((5.0, "1"),)),
    CallBehaviour(keys=((5.0, "1"),)),
    CallBehaviour(Answer.NO_ANSWER),
    CallBehaviour(keys=((5.0, "1"),)),
    CallBehaviour(),  # listens to the end without pressing anything
    CallBehaviour(Answer.BUSY),
)
DEMO_FAMILIES = ["sim800", "ec25", "sim7600", "e3372"]
# Simulated phones of demo residents (gateway.campaigns.demo_setup), beyond the visitors' ones.
DEMO_RESIDENTS = 48
WELCOME_FR = (
    "Ville de Démo: ceci est un message d'essai du système d'alerte Tocsin. "
    "Aucune action n'est requise."
)


async def run_demo(
    *, modems: int, phones: int, data: Path, scale: float, host: str, port: int
) -> None:
    data.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before anything runs
    config = from_mapping({}, {"storage.path": str(data / "tocsin.sqlite")})
    async with Simulator(
        modems=modems,
        phones=phones + DEMO_RESIDENTS,
        family=DEMO_FAMILIES[:modems] or ["sim800"],
        scale=scale,
    ) as sim:
        calls_dir = data / "calls"
        calls_dir.mkdir(exist_ok=True)
        for index, phone in enumerate(sim.phones):
            phone.voice.record_dir = calls_dir  # each answered call as a WAV, played on /sim/phones
            # People, roughly: most press 1 once they have heard the message, some never pick
            # up, one is on the phone; the console's report shows each outcome.
            phone.voice.behaviour = DEMO_CALLERS[index % len(DEMO_CALLERS)]
        settings = tuple(
            ModemSettings(
                port=m.port,
                name=f"modem{i + 1}",
                channels=("sms", "voice"),
                audio_port=str(m.voice.audio_path) if m.voice.audio_path else "",
                balance_ussd="*100#",  # the health page shows each SIM's balance
            )
            for i, m in enumerate(sim.modems)
        )
        async with Gateway(config, settings) as gateway:
            assert gateway.db is not None
            await load_sample_streets(gateway.db, config.get_str("residents.city"))
            resident_phones = [phone.number for phone in sim.phones[phones:]]
            password = await prepare_admin_demo(gateway.db, resident_phones)
            scheme = "http" if is_loopback(host) else "https"
            _describe(sim, data, f"{scheme}://{host}:{port}/")
            print(f"  admin console:    http://{host}:{port}/admin/   user {DEMO_USERNAME!r}")
            print(f"                    password {password!r} (new at every start)")
            api_token = await _demo_api_token(gateway)
            print(f"  HTTP API:         http://{host}:{port}/api/v1/openapi.json   operator token")
            print(f"                    {api_token} (new at every start), e.g.")
            print(
                f"    curl -H 'Authorization: Bearer {api_token}'"
                " -H 'Content-Type: application/json'"
                f' -d \'{{"to": "{sim.phones[0].number}", "text": "Bonjour"}}\''
                f" http://{host}:{port}/api/v1/messages"
            )
            print(
                f"  {len(resident_phones)} more simulated phones belong to demo residents in "
                f"zones {', '.join(DEMO_ZONES)}: send them an alert from the console."
            )
            print(flush=True)
            printer = asyncio.create_task(_print_events(gateway.bus))
            try:
                await _demo_traffic(gateway, sim)
                await serve_web(gateway, host=host, port=port, simulator=sim, tls_dir=data / "tls")
                await asyncio.Event().wait()  # until Ctrl-C / SIGTERM
            finally:
                printer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await printer


async def _demo_api_token(gateway: Gateway) -> str:
    """An operator token for this run (the previous run's is revoked)."""
    assert gateway.db is not None
    tokens = ApiTokens(gateway.db)
    previous = await tokens.find_live("demo")
    if previous is not None:
        await tokens.revoke(previous.id)
    made = await tokens.create("demo", Role.OPERATOR, created_by="demo")
    return made.secret


def _describe(sim: Simulator, data: Path, url: str) -> None:
    print("Tocsin demo — the gateway on simulated modems (Ctrl-C to stop)")
    print(f"  web pages:        {url}   (register with a simulated phone's number)")
    print(f"  simulated phones: {url}sim/phones   (read the codes they receive)")
    print(f"  database: {data / 'tocsin.sqlite'}")
    for modem in sim.modems:
        print(f"  modem  {modem.number}  {modem.family:8}  port {modem.port}")
    for phone in sim.phones[: len(sim.phones) - DEMO_RESIDENTS]:
        print(f"  phone  {phone.number}")
    print("A test alert goes to every simulated phone, and one phone texts the town:")
    print(flush=True)


async def _demo_traffic(gateway: Gateway, sim: Simulator) -> None:
    valid = datetime.now(UTC) + timedelta(hours=1)
    for phone in sim.phones[: len(sim.phones) - DEMO_RESIDENTS]:  # not the demo residents
        await gateway.outbox.enqueue(
            NewMessage(
                MessageClass.ALERT,
                Channel.SMS,
                phone.number,
                WELCOME_FR,
                "fr",
                valid_until=valid,
            )
        )
    if len(sim.phones) > 1:  # and one by voice: the phones page shows the call and its recording
        await gateway.outbox.enqueue(
            NewMessage(
                MessageClass.ALERT,
                Channel.VOICE,
                sim.phones[1].number,
                WELCOME_FR,
                "fr",
                valid_until=valid,
            )
        )
    await sim.phones[0].send_sms(sim.modems[0].number, "Bonjour, arbre tombé rue des Érables")


async def _print_events(bus: EventBus) -> None:
    subscription = bus.subscribe()
    try:
        async for event in subscription:
            routine = event.data.get("health") in ("busy", "ready") and not event.data.get("reason")
            if event.kind == "modem" and routine:
                continue  # every send toggles busy/ready: too chatty for a console
            print(_describe_event(event), flush=True)
    finally:
        subscription.close()


def _describe_event(event: Event) -> str:
    data = event.data
    stamp = event.at.astimezone().strftime("%H:%M:%S")
    if event.kind == "message":
        return (
            f"{stamp}  message {data['id']:>4} {data['message_class']:5} → {data['destination']}"
            f"  {data['state']}  ({data['modem']})"
        )
    if event.kind == "modem":
        reason = f" — {data['reason']}" if data.get("reason") else ""
        return f"{stamp}  modem {data['name']}: {data['health']}{reason}"
    if event.kind == "call":
        return (
            f"{stamp}  call for message {data['message_id']:>4} → {data['destination']}"
            f"  {data['outcome']} keys={data['keys'] or '-'}  ({data['modem']})"
        )
    if event.kind == "inbound":
        return f"{stamp}  received SMS {data['id']} from {data['sender']} on {data['modem']}"
    return f"{stamp}  {event.kind}: {data}"
