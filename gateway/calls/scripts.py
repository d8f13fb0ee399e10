"""What a call says, in the resident's language: who calls and why, the message, the prompt.

A person picking up an unknown number hangs up within seconds unless told at once who calls
and why, so every script opens with the town and the purpose. Digits are spoken one by one
(a synthesiser reads "481523" as a large number), and codes twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from gateway.outbox import MessageClass

# Keys the callee may press after the message.
KEY_CONFIRM: Final = "1"
KEY_REPEAT: Final = "2"

_INTRO: Final = {
    "fr": {
        MessageClass.OTP: "Bonjour, ici {town}. Voici votre code d'accès.",
        MessageClass.ALERT: "Bonjour, ici {town}. Message d'alerte de la municipalité.",
        MessageClass.RELAY: "Bonjour, ici {town}. Un voisin signale une alerte.",
        MessageClass.REPLY: "Bonjour, ici {town}. Réponse à votre message.",
        MessageClass.API: "Bonjour, ici {town}. Message de la municipalité.",
    },
    "en": {
        MessageClass.OTP: "Hello, this is {town}. Here is your access code.",
        MessageClass.ALERT: "Hello, this is {town}, with an alert from the town.",
        MessageClass.RELAY: "Hello, this is {town}. A neighbour reports an alert.",
        MessageClass.REPLY: "Hello, this is {town}, answering your message.",
        MessageClass.API: "Hello, this is {town}, with a message from the town.",
    },
}
_PROMPT: Final = {
    "fr": "Appuyez sur 1 pour confirmer, sur 2 pour réécouter le message.",
    "en": "Press 1 to confirm, or 2 to hear the message again.",
}
_AGAIN: Final = {"fr": "Je répète :", "en": "Again:"}
_THANKS: Final = {
    "fr": "Merci. Au revoir.",
    "en": "Thank you. Goodbye.",
}
# Residents' code texts (gateway.residents.texts) already open with the town and speak the
# code twice, digit by digit: they are spoken as they are.
_ALREADY_INTRODUCED: Final = re.compile(r"^(Bonjour, ici|Hello, this is) ")
# Four or more digits in a row: a code or a number to call, read one digit at a time.
_DIGIT_RUN: Final = re.compile(r"\d{4,}")


@dataclass(frozen=True)
class CallScript:
    """The parts of one call; each is rendered (and cached) on its own."""

    language: str
    message: str  # the intro and the message, played at every repetition
    prompt: str
    thanks: str

    @property
    def transcript(self) -> str:
        """What the callee hears on one play, for logs and tests."""
        return f"{self.message} {self.prompt}"


def script_for(message_class: MessageClass, body: str, language: str, town: str) -> CallScript:
    """The script of an outbox message; unknown languages fall back to French (the town's)."""
    lang = language if language in _PROMPT else "fr"
    text = spoken_digits(body.strip())
    if not _ALREADY_INTRODUCED.match(text):
        if message_class is MessageClass.OTP:
            text = f"{text} {_AGAIN[lang]} {text}"  # a code is said twice
        text = f"{_INTRO[lang][message_class].format(town=town)} {text}"
    return CallScript(lang, text, _PROMPT[lang], _THANKS[lang])


def spoken_digits(text: str) -> str:
    """Runs of four digits or more, spaced out so that each digit is said on its own."""
    return _DIGIT_RUN.sub(lambda m: " ".join(m.group(0)), text)
