"""Per-family voice quirks (call reports, DTMF, how audio gets in), as data beside `families.py`.

`families.py` stays about what SMS needs; everything a call needs to know about a family is a
field here, so `modem.voice` is family-agnostic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class AudioMode(enum.Enum):
    """How a family gets sound into a call."""

    PCM = "pcm"  # our frames on the module's audio port
    MODULE_TTS = "module_tts"  # the module speaks text itself (AT+CTTS)
    NONE = "none"


@dataclass(frozen=True)
class VoiceProfile:
    """What differs between families for calls; kept here so `families.py` stays about SMS."""

    name: str
    clcc_urcs: bool  # AT+CLCC=1 reports state changes (Huawei uses ^ORIG/^CONN/^CEND instead)
    # ATD's OK means "answered", not "dialling": only with AT+COLP=1 (SIM800 manual), which we
    # never send, so that a ringing call can be hung up (ATH) and +CLCC reports the answer.
    ok_on_answer: bool
    dtmf_enable: str | None
    # The URC the firmware prints for a key; the forms each takes are in modem.voice.parse_dtmf.
    dtmf_prefixes: tuple[str, ...]
    audio_mode: AudioMode
    pcm_start: str | None = None
    pcm_stop: str | None = None
    hangup: str = "ATH"
    tts_languages: frozenset[str] = frozenset()


PROFILES: Final = {
    p.name: p
    for p in (
        VoiceProfile(
            name="sim800",
            clcc_urcs=True,
            ok_on_answer=False,
            dtmf_enable="AT+DDET=1",
            # "+DTMF: <key>" (manual: also "+DTMF:1", and "+DTMF: 1,160" in report mode 1).
            dtmf_prefixes=("+DTMF:",),
            # No PCM over USB on SIM800: its audio is analog. Its TTS speaks English and Chinese.
            audio_mode=AudioMode.MODULE_TTS,
            tts_languages=frozenset({"en", "zh"}),
        ),
        VoiceProfile(
            name="sim7600",
            clcc_urcs=True,
            ok_on_answer=False,
            dtmf_enable="AT+DDET=1",
            # Not SIM800's +DTMF: SIM7600 firmware prints "+RXDTMF: <key>" once AT+DDET=1
            # (ModemManager's SIMCom plugin, seen framed CR CR LF on some firmware).
            dtmf_prefixes=("+RXDTMF:",),
            audio_mode=AudioMode.PCM,
            pcm_start="AT+CPCMREG=1",
            pcm_stop="AT+CPCMREG=0",
            hangup="AT+CHUP",
        ),
        VoiceProfile(
            name="ec25",
            clcc_urcs=True,
            ok_on_answer=False,
            dtmf_enable="AT+QTONEDET=1",
            # "+QTONEDET: <ASCII code>[,<ms>]": 49 is "1"; 69/70 are 1400/2300 Hz tones.
            dtmf_prefixes=("+QTONEDET:",),
            audio_mode=AudioMode.PCM,
            pcm_start="AT+QPCMV=1,0",  # port 0: PCM over the USB serial (NMEA) port, not UAC
            pcm_stop="AT+QPCMV=0",
        ),
        VoiceProfile(
            name="e3372",
            clcc_urcs=False,
            ok_on_answer=False,
            dtmf_enable=None,  # ^DDTMF is reported without being asked for
            dtmf_prefixes=("^DDTMF:",),
            audio_mode=AudioMode.PCM,
            pcm_start="AT^DDSETEX=2",  # voice to the second tty; stops with the call
            hangup="AT+CHUP",
        ),
        VoiceProfile(
            name="generic",
            clcc_urcs=True,
            ok_on_answer=False,
            dtmf_enable=None,
            dtmf_prefixes=(),
            audio_mode=AudioMode.NONE,
        ),
    )
}
