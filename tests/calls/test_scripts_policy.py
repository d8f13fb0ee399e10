"""Call scripts and the retry policy, without modems."""

from __future__ import annotations

from collections import Counter

import pytest

from gateway.calls.outcomes import Action, CallOutcome, RetryPolicy, decide
from gateway.calls.scripts import script_for, spoken_digits
from gateway.outbox import MessageClass
from gateway.residents.codes import Purpose
from gateway.residents.texts import code_message


def test_alert_script_says_who_and_why_first() -> None:
    script = script_for(MessageClass.ALERT, "Avis d'ébullition.", "fr", "Tocsin")
    assert script.message.startswith("Bonjour, ici Tocsin. Message d'alerte")
    assert script.message.endswith("Avis d'ébullition.")
    assert "Appuyez sur 1 pour confirmer, sur 2" in script.prompt
    assert script_for(MessageClass.ALERT, "Test.", "en", "Tocsin").prompt.startswith("Press 1")


def test_resident_code_text_is_spoken_as_written() -> None:
    body = code_message(
        Purpose.REGISTER, "048151", voice=True, language="en", town="Tocsin", minutes=10
    )
    script = script_for(MessageClass.OTP, body, "en", "Tocsin")
    assert script.message == body
    assert script.message.count("0 4 8 1 5 1") == 2


def test_other_codes_are_spoken_digit_by_digit_twice() -> None:
    script = script_for(MessageClass.OTP, "Code 123456.", "fr", "Tocsin")
    assert script.message.count("1 2 3 4 5 6") == 2
    assert script.message.startswith("Bonjour, ici Tocsin. Voici votre code")


def test_digits_and_unknown_language() -> None:
    assert (
        spoken_digits("Appelez le 5145550000, rue 12") == "Appelez le 5 1 4 5 5 5 0 0 0 0, rue 12"
    )
    assert script_for(MessageClass.API, "x", "de", "T").language == "fr"


POLICY = RetryPolicy(busy_retries=2, busy_retry_s=60, no_answer_retries=1, no_answer_retry_s=300)


@pytest.mark.parametrize(
    ("outcome", "earlier", "attempts", "action", "delay"),
    [
        (CallOutcome.CONFIRMED, {}, 1, Action.DELIVER, 0),
        (CallOutcome.NO_CONFIRMATION, {}, 1, Action.DELIVER, 0),
        (CallOutcome.BUSY, {}, 1, Action.RETRY, 60),
        (CallOutcome.BUSY, {CallOutcome.BUSY: 1}, 2, Action.RETRY, 60),
        (CallOutcome.BUSY, {CallOutcome.BUSY: 2}, 3, Action.FAIL, 0),
        (CallOutcome.NO_ANSWER, {CallOutcome.BUSY: 2}, 3, Action.RETRY, 300),
        (CallOutcome.NO_ANSWER, {CallOutcome.NO_ANSWER: 1}, 2, Action.FAIL, 0),
        (CallOutcome.HUNG_UP, {CallOutcome.NO_ANSWER: 1}, 2, Action.FAIL, 0),
        (CallOutcome.BUSY, {}, 5, Action.FAIL, 0),  # dispatch.max_attempts
        (CallOutcome.FAILED, {}, 1, Action.BACKOFF, 0),
    ],
)
def test_retry_policy(
    outcome: CallOutcome,
    earlier: dict[CallOutcome, int],
    attempts: int,
    action: Action,
    delay: float,
) -> None:
    decision = decide(outcome, Counter(earlier), attempts, POLICY)
    assert decision.action is action
    assert decision.delay_s == delay
