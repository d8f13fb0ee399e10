"""`tocsin demo`: the real gateway on simulated modems and phones, so it can be tried at once.

Only this module and the CLI's `simulate` command import the simulator: the gateway itself
talks to the simulated modems through their ptys exactly as it would to USB modems.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config import ModemSettings, from_mapping
from gateway.events import Event, EventBus
from gateway.outbox import Channel, MessageClass, NewMessage
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from gateway.webserver import serve_web
from modem.simulator import Simulator

DEMO_FAMILIES = ["sim800", "ec25", "sim7600", "e3372"]
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
        modems=modems, phones=phones, family=DEMO_FAMILIES[:modems] or ["sim800"], scale=scale
    ) as sim:
        settings = tuple(
            ModemSettings(port=m.port, name=f"modem{i + 1}") for i, m in enumerate(sim.modems)
        )
        async with Gateway(config, settings) as gateway:
            assert gateway.db is not None
            await load_sample_streets(gateway.db, config.get_str("residents.city"))
            _describe(sim, data, f"http://{host}:{port}/")
            printer = asyncio.create_task(_print_events(gateway.bus))
            try:
                await _demo_traffic(gateway, sim)
                await serve_web(gateway, host=host, port=port, simulator=sim)
                await asyncio.Event().wait()  # until Ctrl-C / SIGTERM
            finally:
                printer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await printer


def _describe(sim: Simulator, data: Path, url: str) -> None:
    print("Tocsin demo — the gateway on simulated modems (Ctrl-C to stop)")
    print(f"  web pages:        {url}   (register with a simulated phone's number)")
    print(f"  simulated phones: {url}sim/phones   (read the codes they receive)")
    print(f"  database: {data / 'tocsin.sqlite'}")
    for modem in sim.modems:
        print(f"  modem  {modem.number}  {modem.family:8}  port {modem.port}")
    for phone in sim.phones:
        print(f"  phone  {phone.number}")
    print("A test alert goes to every simulated phone, and one phone texts the town:")
    print(flush=True)


async def _demo_traffic(gateway: Gateway, sim: Simulator) -> None:
    valid = datetime.now(UTC) + timedelta(hours=1)
    for phone in sim.phones:
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
    if event.kind == "inbound":
        return f"{stamp}  received SMS {data['id']} from {data['sender']} on {data['modem']}"
    return f"{stamp}  {event.kind}: {data}"
