"""Every fault the simulator can inject, under load: the work moves, nothing is lost, the modem
comes back. Two simulated modems share a stream of alert messages while one of them fails."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.modem_worker import Health
from gateway.outbox import Channel, MessageClass, MessageState, NewMessage
from gateway.service import Gateway
from modem import families
from modem.simulator import Simulator
from tests.gateway.conftest import make_config, modem_settings

LOAD = 24
DONE = {MessageState.SENT, MessageState.DELIVERED}


@pytest.fixture(autouse=True)
def _short_cmgs_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung modem is noticed when +CMGS times out (60 s on a SIM800); 2 s here."""
    for name in ("SIM800", "SIM7600", "EC25", "E3372", "GENERIC"):
        family = getattr(families, name)
        monkeypatch.setattr(families, name, dataclasses.replace(family, cmgs_timeout=2.0))


@pytest.fixture
async def pool_sim() -> AsyncIterator[Simulator]:
    async with Simulator(modems=2, phones=4, scale=0.02) as simulator:
        yield simulator


@pytest.fixture
async def gw(pool_sim: Simulator, tmp_path: Path) -> AsyncIterator[Gateway]:
    config = make_config(tmp_path, **{"dispatch.max_attempts": 10})
    async with Gateway(config, modem_settings(pool_sim)) as gateway:
        await wait_health(gateway, 0, Health.READY)
        await wait_health(gateway, 1, Health.READY)
        yield gateway


async def wait_health(gw: Gateway, index: int, *healths: Health, timeout: float = 20) -> None:
    worker = gw.pool.workers[index]
    async with asyncio.timeout(timeout):
        while worker.status.health not in healths:
            await asyncio.sleep(0.02)


async def load(gw: Gateway, sim: Simulator, tag: str) -> list[int]:
    ids = []
    for i in range(LOAD):
        phone = sim.phones[i % len(sim.phones)]
        ids.append(
            await gw.outbox.enqueue(
                NewMessage(MessageClass.ALERT, Channel.SMS, phone.number, f"{tag} {i}", "fr")
            )
        )
    return ids


async def settle(gw: Gateway, ids: list[int], timeout: float = 30) -> dict[int, MessageState]:
    """Wait until every message is out of the queue, and return their states."""
    async with asyncio.timeout(timeout):
        while True:
            states = {}
            for message_id in ids:
                message = await gw.outbox.get(message_id)
                assert message is not None
                states[message_id] = message.state
            if all(s not in (MessageState.QUEUED, MessageState.SENDING) for s in states.values()):
                return states
            await asyncio.sleep(0.05)


def received(sim: Simulator, tag: str) -> list[str]:
    return [m.text for p in sim.phones for m in p.inbox if m.text.startswith(tag)]


async def all_received(sim: Simulator, tag: str, timeout: float = 10) -> set[str]:
    """Every `tag i` reached a phone (a sent SMS crosses the network a moment later)."""
    wanted = {f"{tag} {i}" for i in range(LOAD)}
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while not wanted <= set(received(sim, tag)):
                await asyncio.sleep(0.02)
    return set(received(sim, tag))


async def test_a_hung_modem_leaves_the_work_to_the_other(gw: Gateway, pool_sim: Simulator) -> None:
    ids = await load(gw, pool_sim, "hang")
    await asyncio.sleep(0.1)
    pool_sim.modems[0].hang()
    await wait_health(gw, 0, Health.DOWN)
    states = await settle(gw, ids)
    assert set(states.values()) <= DONE
    assert await all_received(pool_sim, "hang") == {f"hang {i}" for i in range(LOAD)}
    pool_sim.modems[0].resume()
    await wait_health(gw, 0, Health.READY, Health.BUSY)


async def test_unplugged_modem_is_reopened_and_its_job_resent(
    gw: Gateway, pool_sim: Simulator
) -> None:
    ids = await load(gw, pool_sim, "unplug")
    await asyncio.sleep(0.1)
    await pool_sim.modems[0].unplug()
    await wait_health(gw, 0, Health.DOWN)
    states = await settle(gw, ids)
    assert set(states.values()) <= DONE  # alerts in flight are resent, not lost
    assert await all_received(pool_sim, "unplug") == {f"unplug {i}" for i in range(LOAD)}
    await pool_sim.modems[0].replug()
    await wait_health(gw, 0, Health.READY)
    again = await load(gw, pool_sim, "back")
    assert set((await settle(gw, again)).values()) <= DONE
    modems_used = {(await gw.outbox.get(i)).modem for i in again}  # type: ignore[union-attr]
    assert len(modems_used) == 2  # the replugged modem works again


async def test_transient_errors_are_retried(gw: Gateway, pool_sim: Simulator) -> None:
    pool_sim.modems[0].fail_next_sends(2, 38)
    pool_sim.modems[1].fail_next_sends(1, 42)
    ids = await load(gw, pool_sim, "retry")
    states = await settle(gw, ids)
    assert set(states.values()) <= DONE
    retried = [await gw.outbox.get(i) for i in ids]
    assert sum(1 for m in retried if m is not None and m.attempts > 1) >= 3


async def test_permanent_error_fails_only_that_message(gw: Gateway, pool_sim: Simulator) -> None:
    pool_sim.modems[0].fail_next_sends(1, 21)
    pool_sim.modems[1].fail_next_sends(1, 21)
    ids = await load(gw, pool_sim, "perm")
    states = await settle(gw, ids)
    failed = [i for i, s in states.items() if s is MessageState.FAILED]
    assert len(failed) == 2
    assert len([s for s in states.values() if s in DONE]) == LOAD - 2


async def test_no_credit_takes_the_modem_out_and_raises_an_alarm(
    gw: Gateway, pool_sim: Simulator
) -> None:
    alarms = gw.bus.subscribe({"alarm"})
    pool_sim.modems[0].set_no_credit(True)
    ids = await load(gw, pool_sim, "credit")
    alarm = await alarms.next(timeout=10)
    assert alarm.data["modem"] == gw.pool.workers[0].name
    states = await settle(gw, ids)
    assert set(states.values()) <= DONE  # everything went out through the other SIM
    for message_id in ids:
        message = await gw.outbox.get(message_id)
        assert message is not None
        assert message.modem == gw.pool.workers[1].name
    alarms.close()


async def test_deregistered_modem_stops_taking_work(gw: Gateway, pool_sim: Simulator) -> None:
    pool_sim.modems[0].deregister()
    await wait_health(gw, 0, Health.DEGRADED, Health.BLOCKED)
    ids = await load(gw, pool_sim, "dereg")
    states = await settle(gw, ids)
    assert set(states.values()) <= DONE
    pool_sim.modems[0].register()
    await wait_health(gw, 0, Health.READY, Health.BUSY)
