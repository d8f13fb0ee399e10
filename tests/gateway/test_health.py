"""The health monitor on simulated modems: balances by USSD, alarms raised and cleared once,
told to the admins by SMS (through the outbox, to a simulated phone) and email (aiosmtpd)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway import health as health_module
from gateway.alarms import AlarmKind
from gateway.modem_worker import Health
from gateway.outbox import Channel, MessageClass, NewMessage
from gateway.service import Gateway
from modem.simulator import Simulator
from modem.simulator.ussd import UssdFailure
from tests.gateway.conftest import make_config, modem_settings
from tests.inbound.test_end_to_end import Mailbox, smtp  # noqa: F401 - the fixture

WAIT = 10.0


async def eventually(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def ready(gateway: Gateway) -> None:
    await eventually(lambda: all(s.health is Health.READY for s in gateway.pool.statuses()))


def kinds(gateway: Gateway) -> list[str]:
    return [a.key for a in gateway.health.alarms.active()]


def config(tmp_path: Path, **values: Any) -> Any:
    base: dict[str, Any] = {
        "health.balance_check_s": 0.0,
        "health.check_interval_s": 0.05,
        "alarms.modem_down_s": 120.0,
    }
    base.update(values)
    return make_config(tmp_path, **base)


async def test_balance_on_demand_and_the_credit_alarm(tmp_path: Path) -> None:
    async with Simulator(modems=2, phones=2, scale=0.01) as sim:
        admin_phone = sim.phones[0]
        for modem in sim.modems:
            modem.ussd.template = "Votre solde est de {balance} $"
            modem.ussd.decimal = ","
        sim.modems[0].balance = 12.34
        settings = modem_settings(sim, balance_ussd="*100#")
        cfg = config(tmp_path, **{"alarms.sms_to": [admin_phone.number], "health.low_credit": 5.0})
        async with Gateway(cfg, settings) as gateway:
            await ready(gateway)
            await gateway.health.check_balance("sim0")
            report = await gateway.health.report()
            reading = report.modems[0].balance
            assert reading is not None
            assert reading.amount == Decimal("12.34")
            assert reading.text == "Votre solde est de 12,34 $"
            assert report.modems[1].balance is None  # not asked yet
            assert kinds(gateway) == []

            sim.modems[1].set_no_credit()
            await gateway.health.check_balance()
            assert kinds(gateway) == ["credit_low:sim1"]
            await gateway.health.check_balance("sim1")  # still low: not raised again
            assert gateway.health.alarms.notices_sent == 1
            # The admin's phone gets the notice, sent by the modem whose SIM still has credit.
            await eventually(lambda: len(admin_phone.inbox) == 1)
            assert "sim1" in admin_phone.inbox[0].text
            assert "ALARME" in admin_phone.inbox[0].text

            sim.modems[1].set_no_credit(False)
            await gateway.health.check_balance("sim1")
            assert kinds(gateway) == []


async def test_failed_balance_check_keeps_the_error(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=0, scale=0.01) as sim:
        sim.modems[0].ussd.failure = UssdFailure.UNSUPPORTED
        async with Gateway(config(tmp_path), modem_settings(sim, balance_ussd="*100#")) as gw:
            await ready(gw)
            await gw.health.check_balance("sim0")
            reading = (await gw.health.report()).modems[0].balance
            assert reading is not None
            assert reading.amount is None
            assert reading.error is not None
            assert "not support" in reading.error
            with pytest.raises(KeyError):
                await gw.health.check_balance("nope")


async def test_modem_down_is_told_once_while_it_flaps(
    tmp_path: Path,
    smtp: tuple[Mailbox, int],  # noqa: F811
) -> None:
    mailbox, port = smtp
    values = {
        "alarms.email_to": ["mairie@example.org"],
        "email.host": "127.0.0.1",
        "email.port": port,
        "email.tls": "none",
        "email.from": "tocsin@example.org",
    }
    async with Simulator(modems=2, phones=1, scale=0.01) as sim:  # noqa: SIM117 - ports first
        async with Gateway(config(tmp_path, **values), modem_settings(sim)) as gateway:
            await ready(gateway)
            # Start-up takes what it takes; from now on a modem down 0.3 s is an alarm.
            gateway.config.values["alarms.modem_down_s"] = 0.3
            report = await gateway.health.report()
            assert [m.state for m in report.modems] == ["ready", "ready"]
            assert report.modems[0].imei == sim.modems[0].imei
            assert report.modems[0].operator == sim.modems[0].operator
            assert report.modems[0].signal_bars > 0
            assert report.modems[0].registration == "home"
            for _ in range(2):  # down, back, down again
                await sim.modems[0].unplug()
                await eventually(lambda: kinds(gateway) == ["modem_down:sim0"])
                await sim.modems[0].replug()
                await eventually(lambda: kinds(gateway) == [])
            await gateway.health.alarms.stop()
            await eventually(lambda: len(mailbox.messages) == 1)
            assert "sim0" in str(mailbox.messages[0]["Subject"])
            assert gateway.health.alarms.notices_sent == 1


async def test_queue_stuck_disk_low_and_event_alarms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health_module, "STALL_S", 0.0)
    values = {
        "alarms.queue_stuck_s": 0.0,
        "alarms.disk_low_mb": 10**9,
        "alarms.event_hold_s": 0.3,
    }
    async with Gateway(config(tmp_path, **values), ()) as gateway:
        message_id = await gateway.outbox.enqueue(
            NewMessage(MessageClass.ALERT, Channel.SMS, "+15145550199", "Avis", "fr")
        )
        gateway.bus.publish("alarm", source="residents", budget="global_hour", purpose="register")
        await gateway.health.evaluate()
        active = {a.kind: a for a in gateway.health.alarms.active()}
        assert set(active) == {AlarmKind.QUEUE_STUCK, AlarmKind.DISK_LOW, AlarmKind.EVENT}
        assert "budget=global_hour" in active[AlarmKind.EVENT].detail
        report = await gateway.health.report()
        assert report.queue_depth[MessageClass.ALERT] == 1
        assert report.oldest_due_s is not None
        assert not report.can_send
        await eventually(
            lambda: AlarmKind.EVENT not in {a.kind for a in gateway.health.alarms.active()}
        )
        assert await gateway.outbox.cancel(message_id)
        await gateway.health.evaluate()
        assert {a.kind for a in gateway.health.alarms.active()} == {AlarmKind.DISK_LOW}


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"alarms": {"sms_to": ["514 555-0100"]}}, "alarms.sms_to"),
        ({"alarms": {"email_to": ["greffe"]}}, "alarms.email_to"),
        ({"modems": [{"port": "/dev/ttyUSB0", "balance_ussd": "100"}]}, "balance_ussd"),
    ],
)
def test_bad_alarm_and_balance_settings_name_the_key(raw: dict[str, Any], key: str) -> None:
    from gateway.config import ConfigError, from_mapping

    with pytest.raises(ConfigError, match=key):
        from_mapping(raw)


def test_good_alarm_and_balance_settings() -> None:
    from gateway.config import from_mapping

    config = from_mapping(
        {
            "alarms": {"sms_to": ["+15145550100"], "email_to": ["greffe@ville.example"]},
            "modems": [{"port": "/dev/ttyUSB0", "balance_ussd": "*100#"}],
        }
    )
    assert config.modems[0].balance_ussd == "*100#"
    assert config["alarms.sms_to"] == ["+15145550100"]
