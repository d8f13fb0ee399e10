"""The words of the codes and notices the web triggers, in each resident language."""

from __future__ import annotations

from typing import Final

from gateway.residents.codes import Purpose

_CODE_SMS: Final = {
    "fr": "{town} : votre code d'accès est {code}. Il expire dans {minutes} minutes. "
    "Ne le donnez à personne.",
    "en": "{town}: your access code is {code}. It expires in {minutes} minutes. Do not share it.",
}
_CONTACT_SMS: Final = {
    "fr": "{town} : pour confirmer ce numéro, entrez le code {code}. "
    "Il expire dans {minutes} minutes.",
    "en": "{town}: to confirm this number, enter the code {code}. It expires in {minutes} minutes.",
}
_CODE_VOICE: Final = {
    "fr": "Bonjour, ici {town}. Votre code est {spoken}. Je répète : {spoken}.",
    "en": "Hello, this is {town}. Your code is {spoken}. Again: {spoken}.",
}
_ALREADY_REGISTERED: Final = {
    "fr": "{town} : ce numéro a déjà un compte. Si vous avez oublié votre mot de passe, "
    "choisissez « Mot de passe oublié? » sur la page de connexion.",
    "en": "{town}: this number already has an account. If you forgot your password, "
    "choose “Forgot your password?” on the sign-in page.",
}
_NO_ACCOUNT: Final = {
    "fr": "{town} : aucun compte n'est inscrit à ce numéro. Pour vous inscrire, "
    "choisissez « Nouvel usager » sur la page de connexion.",
    "en": "{town}: no account uses this number. To sign up, choose “New user” on the sign-in page.",
}


def code_message(
    purpose: Purpose, code: str, *, voice: bool, language: str, town: str, minutes: int
) -> str:
    """The text of a code, written for SMS or to be spoken digit by digit."""
    lang = _lang(language)
    if voice:
        return _CODE_VOICE[lang].format(town=town, spoken=" ".join(code))
    table = _CONTACT_SMS if purpose is Purpose.ADD_CONTACT else _CODE_SMS
    return table[lang].format(town=town, code=code, minutes=minutes)


def notice_message(purpose: Purpose, *, language: str, town: str) -> str:
    """What a number hears instead of a code: already registered, or no account to reset."""
    table = _ALREADY_REGISTERED if purpose is Purpose.REGISTER else _NO_ACCOUNT
    return table[_lang(language)].format(town=town)


def _lang(language: str) -> str:
    return language if language in _CODE_SMS else "fr"
