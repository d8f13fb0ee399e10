"""What the gateway writes to texters and neighbours: the unknown-sender notice, the relay text.

Texts avoid characters outside GSM-7 (ê, ç, …) where they can: one of them switches the whole
SMS to UCS-2 and cuts its length from 160 to 70 characters.
"""

from __future__ import annotations

from typing import Final

from modem.pdu import segment_info

_UNKNOWN: Final[dict[str, str]] = {
    "fr": "{town}: ce numero relaie les alertes des voisins inscrits. Inscrivez-vous: {where}",
    "en": "{town}: this number relays alerts from registered neighbours. Register: {where}",
}
_WHERE_OFFICE: Final[dict[str, str]] = {"fr": "bureau municipal", "en": "town office"}
_NEIGHBOUR: Final[dict[str, str]] = {"fr": "Un voisin", "en": "A neighbour"}
_CUT_MARK: Final = "..."  # GSM-7, unlike the ellipsis character
_EMAIL_SUBJECT: Final[dict[str, str]] = {
    "fr": "{town} : alerte de voisin de {name}",
    "en": "{town}: neighbour alert from {name}",
}
_EMAIL_FOOTER: Final[dict[str, str]] = {
    "fr": "Vous recevez ce courriel parce que vous avez choisi les alertes de voisins par courriel."
    " Pour ne plus les recevoir : {where}",
    "en": "You receive this email because you chose neighbour alerts by email."
    " To stop them: {where}",
}
_REFUSED: Final[dict[str, str]] = {
    "fr": "{town}: votre alerte de voisin n'a pas ete relayee. {why}",
    "en": "{town}: your neighbour alert was not relayed. {why}",
}
_REFUSED_WHY: Final[dict[str, dict[str, str]]] = {
    "sender_limit": {
        "fr": "Limite de {n} alertes par heure atteinte. Reessayez plus tard.",
        "en": "You reached the limit of {n} alerts per hour. Try again later.",
    },
    "zone_limit": {
        "fr": "Trop d'alertes dans votre secteur cette heure-ci. Urgence: appelez les secours.",
        "en": "Too many alerts in your area this hour. Emergency: call emergency services.",
    },
    "no_zone": {
        "fr": "Votre adresse n'a pas de secteur: completez votre profil.",
        "en": "Your address has no area: complete your profile.",
    },
    "rejected": {
        "fr": "Un moderateur de la ville l'a refusee.",
        "en": "A town moderator declined it.",
    },
}
# One SMS: a second part costs money and a reply must not invite a conversation.
MAX_REPLY_PARTS: Final = 1


def language_or(language: str | None, default: str) -> str:
    """fr or en: the given one when known, else the default, else French."""
    for candidate in (language, default):
        if candidate in _NEIGHBOUR:
            return candidate
    return "fr"


def unknown_sender_reply(language: str, *, town: str, website: str, contact: str) -> str:
    """How to register, one SMS long; the town's name is shortened if it must be."""
    where = website or " ".join(p for p in (_WHERE_OFFICE[language], contact) if p)
    text = _UNKNOWN[language].format(town=town, where=where)
    while segment_info(text).parts > MAX_REPLY_PARTS and len(town) > 8:
        town = town[: max(8, len(town) - 4)]
        text = _UNKNOWN[language].format(town=town, where=where)
    return text


def relay_text(
    body: str, *, name: str, number: str, language: str, max_chars: int, max_segments: int
) -> str:
    """ "Antoine: …" (with the number only when shown), cut to the caps with a visible mark."""
    who = name.strip() or _NEIGHBOUR[language]
    prefix = f"{who} ({number}): " if number else f"{who}: "
    text = " ".join(body.split())
    full = prefix + text
    if _fits(full, max_chars, max_segments):
        return full
    # Binary search on the cut point: segment counts are monotonic in the text's length.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(prefix + text[:middle].rstrip() + _CUT_MARK, max_chars, max_segments):
            low = middle
        else:
            high = middle - 1
    return prefix + text[:low].rstrip() + _CUT_MARK


def refusal_notice(language: str, *, reason: str, town: str, per_hour: int) -> str:
    """Why an alert did not go out, in one SMS (GSM-7, no accents)."""
    why = _REFUSED_WHY.get(reason, _REFUSED_WHY["rejected"])[language].format(n=per_hour)
    return _REFUSED[language].format(town=town, why=why)


def email_subject(language: str, *, town: str, name: str) -> str:
    """The copy's subject line names the town and the neighbour."""
    return _EMAIL_SUBJECT[language].format(town=town, name=name.strip() or _NEIGHBOUR[language])


def email_footer(language: str, *, website: str, contact: str) -> str:
    """Why they receive it and how to stop."""
    where = f"{website.rstrip('/')}/neighbours" if website else contact or _WHERE_OFFICE[language]
    return _EMAIL_FOOTER[language].format(where=where)


def _fits(text: str, max_chars: int, max_segments: int) -> bool:
    return len(text) <= max_chars and segment_info(text).parts <= max_segments
