"""The AT channel over a real pty, against a scripted far end that sends exact bytes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from modem.at import PRIORITY_BULK, PRIORITY_CONTROL, AtChannel, response_prefix
from modem.exceptions import (
    AtCommandError,
    AtTimeoutError,
    CmeError,
    CmsError,
    ModemDisconnectedError,
    SimBusyError,
    SimPinRequiredError,
)
from tests.engine.ptypeer import PtyPeer


@pytest.fixture
async def peer() -> AsyncIterator[PtyPeer]:
    far = PtyPeer()
    yield far
    far.close()


@pytest.fixture
async def channel(peer: PtyPeer) -> AsyncIterator[AtChannel]:
    chan = AtChannel("test")
    await chan.open(peer.port)
    yield chan
    await chan.close()


class Urcs:
    def __init__(self, channel: AtChannel, *prefixes: str) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.event = asyncio.Event()
        for prefix in prefixes:
            channel.add_urc(prefix, self._on, two_lines=prefix in ("+CMT:", "+CDS:"))

    def _on(self, line: str, body: str | None) -> None:
        self.seen.append((line, body))
        self.event.set()


async def answer(peer: PtyPeer, command: bytes, reply: bytes) -> None:
    await peer.expect(command + b"\r")
    peer.send(reply)


async def test_ok_with_information_lines(channel: AtChannel, peer: PtyPeer) -> None:
    task = asyncio.create_task(channel.command("AT+CSQ"))
    await answer(peer, b"AT+CSQ", b"\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
    assert await task == ["+CSQ: 17,99"]


async def test_line_starting_with_ok_is_not_final(channel: AtChannel, peer: PtyPeer) -> None:
    task = asyncio.create_task(channel.command("AT+CMGR=1"))
    await answer(peer, b"AT+CMGR=1", b"\r\n+CMGR: 1,,5\r\nOK, see you\r\nOKAY\r\n\r\nOK\r\n")
    assert await task == ["+CMGR: 1,,5", "OK, see you", "OKAY"]


@pytest.mark.parametrize(
    ("reply", "error", "code"),
    [
        (b"\r\nERROR\r\n", AtCommandError, None),
        (b"\r\n+CME ERROR: 11\r\n", SimPinRequiredError, 11),
        (b"\r\n+CME ERROR: 14\r\n", SimBusyError, 14),
        (b"\r\n+CME ERROR: 515\r\n", SimBusyError, 515),
        (b"\r\n+CME ERROR: SIM busy\r\n", SimBusyError, 14),
        (b"\r\n+CME ERROR: 100\r\n", CmeError, 100),
        (b"\r\n+CMS ERROR: 38\r\n", CmsError, 38),
        (b"\r\nCOMMAND NOT SUPPORT\r\n", AtCommandError, None),
    ],
)
async def test_error_results_are_typed(
    channel: AtChannel, peer: PtyPeer, reply: bytes, error: type[Exception], code: int | None
) -> None:
    task = asyncio.create_task(channel.command("AT+CPIN?"))
    await answer(peer, b"AT+CPIN?", reply)
    with pytest.raises(error) as info:
        await task
    if code is not None:
        assert getattr(info.value, "code", None) == code


async def test_urc_in_the_middle_of_a_response(channel: AtChannel, peer: PtyPeer) -> None:
    urcs = Urcs(channel, "+CMTI:", "+CMT:")
    task = asyncio.create_task(channel.command("AT+CSQ"))
    await answer(
        peer,
        b"AT+CSQ",
        b'\r\n+CSQ: 17,99\r\n\r\n+CMTI: "SM",3\r\n\r\n+CMT: ,24\r\n07911326040000F0\r\n\r\nOK\r\n',
    )
    assert await task == ["+CSQ: 17,99"]
    assert urcs.seen == [('+CMTI: "SM",3', None), ("+CMT: ,24", "07911326040000F0")]


async def test_urc_while_waiting_at_the_prompt(channel: AtChannel, peer: PtyPeer) -> None:
    urcs = Urcs(channel, "+CMTI:")
    task = asyncio.create_task(channel.command("AT+CMGS=12", data="0011AABB"))
    await answer(peer, b"AT+CMGS=12", b'\r\n> \r\n+CMTI: "SM",7\r\n')
    await peer.expect(b"0011AABB\x1a")
    peer.send(b"\r\n+CMGS: 42\r\n\r\nOK\r\n")
    assert await task == ["+CMGS: 42"]
    assert urcs.seen == [('+CMTI: "SM",7', None)]


async def test_urc_before_the_prompt(channel: AtChannel, peer: PtyPeer) -> None:
    urcs = Urcs(channel, "+CMTI:")
    task = asyncio.create_task(channel.command("AT+CMGS=12", data="0011AABB"))
    await answer(peer, b"AT+CMGS=12", b'\r\n+CMTI: "SM",7\r\n\r\n> ')
    await peer.expect(b"0011AABB\x1a")
    peer.send(b"\r\n+CMGS: 43\r\n\r\nOK\r\n")
    assert await task == ["+CMGS: 43"]
    assert len(urcs.seen) == 1


async def test_refusal_instead_of_prompt(channel: AtChannel, peer: PtyPeer) -> None:
    task = asyncio.create_task(channel.command("AT+CMGS=12", data="0011AABB"))
    await answer(peer, b"AT+CMGS=12", b"\r\n+CMS ERROR: 331\r\n")
    with pytest.raises(CmsError) as info:
        await task
    assert info.value.code == 331


async def test_bytes_delivered_one_at_a_time(channel: AtChannel, peer: PtyPeer) -> None:
    urcs = Urcs(channel, "+CMTI:")
    task = asyncio.create_task(channel.command("AT+CMGS=12", data="00FF"))
    await peer.expect(b"AT+CMGS=12\r")
    await peer.trickle(b'\r\n+CMTI: "SM",1\r\n\r\n> ')
    await peer.expect(b"00FF\x1a")
    await peer.trickle(b"\r\n+CMGS: 7\r\n\r\nOK\r\n", gap=0.001)
    assert await task == ["+CMGS: 7"]
    assert urcs.seen == [('+CMTI: "SM",1', None)]


async def test_garbage_before_the_answer(channel: AtChannel, peer: PtyPeer) -> None:
    task = asyncio.create_task(channel.command("AT"))
    await answer(peer, b"AT", b"\x00\xff\x81garbage\x07\r\n\xfe\xfe\r\nOK\r\n")
    assert await task == []


async def test_echo_is_dropped(channel: AtChannel, peer: PtyPeer) -> None:
    task = asyncio.create_task(channel.command("AT+CGMI"))
    await answer(peer, b"AT+CGMI", b"AT+CGMI\r\r\nSIMCOM_Ltd\r\n\r\nOK\r\n")
    assert await task == ["SIMCOM_Ltd"]


async def test_query_answer_with_a_urc_prefix_is_the_answer(
    channel: AtChannel, peer: PtyPeer
) -> None:
    urcs = Urcs(channel, "+CREG:")
    task = asyncio.create_task(channel.command("AT+CREG?"))
    await answer(peer, b"AT+CREG?", b'\r\n+CREG: 2,1,"1A2B","0C3D"\r\n\r\nOK\r\n')
    assert await task == ['+CREG: 2,1,"1A2B","0C3D"']
    assert urcs.seen == []
    task = asyncio.create_task(channel.command("AT+CSQ"))
    await answer(peer, b"AT+CSQ", b"\r\n+CREG: 3\r\n+CSQ: 99,99\r\n\r\nOK\r\n")
    assert await task == ["+CSQ: 99,99"]
    assert urcs.seen == [("+CREG: 3", None)]


async def test_no_carrier_outside_a_call_command_is_unsolicited(
    channel: AtChannel, peer: PtyPeer
) -> None:
    urcs = Urcs(channel, "NO CARRIER")
    task = asyncio.create_task(channel.command("AT+CSQ"))
    await answer(peer, b"AT+CSQ", b"\r\nNO CARRIER\r\n\r\n+CSQ: 10,0\r\n\r\nOK\r\n")
    assert await task == ["+CSQ: 10,0"]
    assert urcs.seen == [("NO CARRIER", None)]


async def test_busy_ends_a_dial(channel: AtChannel, peer: PtyPeer) -> None:
    task = asyncio.create_task(channel.command("ATD+15145550101;"))
    await answer(peer, b"ATD+15145550101;", b"\r\nBUSY\r\n")
    with pytest.raises(AtCommandError, match="BUSY"):
        await task


async def test_timeout_is_also_a_timeout_error(channel: AtChannel, peer: PtyPeer) -> None:
    with pytest.raises(TimeoutError) as info:
        await channel.command("AT", timeout=0.2)
    assert isinstance(info.value, AtTimeoutError)
    # The channel is usable afterwards (once the timed-out command's grace period is over).
    task = asyncio.create_task(channel.command("AT"))
    await peer.expect(b"AT\r")  # the command that timed out
    await answer(peer, b"AT", b"\r\nOK\r\n")
    assert await task == []


async def test_late_answer_to_a_timed_out_command_is_not_the_next_answer(
    channel: AtChannel, peer: PtyPeer
) -> None:
    with pytest.raises(AtTimeoutError):
        await channel.command("AT+COPS?", timeout=0.3)
    nxt = asyncio.create_task(channel.command("AT+CSQ"))
    await asyncio.sleep(0.05)
    # The slow modem answers the first command now; that must not end AT+CSQ.
    peer.send(b'\r\n+COPS: 0,0,"Telus"\r\n\r\nERROR\r\n')
    await answer(peer, b"AT+CSQ", b"\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
    assert await nxt == ["+CSQ: 17,99"]


async def test_prompt_timeout_sends_escape(channel: AtChannel, peer: PtyPeer) -> None:
    with pytest.raises(AtTimeoutError):
        await channel.command("AT+CMGS=10", data="00", prompt_timeout=0.2)
    await peer.expect(b"\x1b")


async def test_disconnect_mid_command_fails_once(peer: PtyPeer) -> None:
    channel = AtChannel("test")
    lost: list[Exception | None] = []
    await channel.open(peer.port)
    channel.on_disconnect(lost.append)
    task = asyncio.create_task(channel.command("AT+CSQ", timeout=5))
    await peer.expect(b"AT+CSQ\r")
    peer.close()
    with pytest.raises(ModemDisconnectedError):
        await task
    assert len(lost) == 1
    with pytest.raises(ModemDisconnectedError):
        await channel.command("AT")
    await channel.close()


async def test_priority_orders_waiting_commands(channel: AtChannel, peer: PtyPeer) -> None:
    order: list[str] = []

    async def run(command: str, priority: int) -> None:
        await channel.command(command, priority=priority)
        order.append(command)

    first = asyncio.create_task(run("AT+FIRST", PRIORITY_BULK))
    await peer.expect(b"AT+FIRST\r")
    bulk = asyncio.create_task(run("AT+BULK", PRIORITY_BULK))
    await asyncio.sleep(0.01)
    control = asyncio.create_task(run("AT+CONTROL", PRIORITY_CONTROL))
    await asyncio.sleep(0.01)
    peer.send(b"\r\nOK\r\n")
    await answer(peer, b"AT+CONTROL", b"\r\nOK\r\n")
    await answer(peer, b"AT+BULK", b"\r\nOK\r\n")
    await asyncio.gather(first, bulk, control)
    assert order == ["AT+FIRST", "AT+CONTROL", "AT+BULK"]


async def test_cancelled_waiter_does_not_block_the_channel(
    channel: AtChannel, peer: PtyPeer
) -> None:
    first = asyncio.create_task(channel.command("AT+ONE"))
    await peer.expect(b"AT+ONE\r")
    waiting = asyncio.create_task(channel.command("AT+TWO"))
    await asyncio.sleep(0.01)
    waiting.cancel()
    peer.send(b"\r\nOK\r\n")
    await first
    task = asyncio.create_task(channel.command("AT+THREE"))
    await answer(peer, b"AT+THREE", b"\r\nOK\r\n")
    assert await task == []
    with pytest.raises(asyncio.CancelledError):
        await waiting


def test_response_prefix() -> None:
    assert response_prefix("AT+CREG?") == "+CREG:"
    assert response_prefix("AT^ICCID?") == "^ICCID:"
    assert response_prefix("at+cmgs=23") == "+CMGS:"
    assert response_prefix("ATE0") is None
