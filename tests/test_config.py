"""Configuration: documented defaults, clear errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import MODEM_SETTINGS, SETTINGS, ConfigError, from_mapping, load

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS + MODEM_SETTINGS, ids=lambda s: s.key)
def test_every_setting_is_in_the_readme(setting) -> None:
    assert f"| `{setting.key}` |" in README


def test_defaults_and_file(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.toml"
    path.write_text(
        '[dispatch]\nmax_attempts = 7\n\n[[modems]]\nport = "/dev/ttyUSB2"\nper_day = 400\n'
        'channels = ["sms", "voice"]\n',
        encoding="utf-8",
    )
    config = load(path)
    assert config.get_int("dispatch.max_attempts") == 7
    assert config.get_float("dispatch.retry_base_s") == 30.0
    [modem] = config.modems
    assert modem.port == "/dev/ttyUSB2"
    assert modem.per_day == 400
    assert modem.channels == ("sms", "voice")
    assert modem.rtscts is False


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"dispatch": {"max_attempts": "five"}}, "dispatch.max_attempts"),
        ({"dispatch": {"retry_base_s": -1}}, "dispatch.retry_base_s"),
        ({"dispatch": {"nope": 1}}, "dispatch.nope"),
        ({"town": "x"}, "town"),
        ({"modems": [{"name": "no port"}]}, "modems[0].port"),
        ({"modems": [{"port": "/dev/x", "rtscts": "yes"}]}, "modems[0].rtscts"),
        ({"modems": [{"port": "/dev/x", "channels": ["fax"]}]}, "modems[0].channels"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        from_mapping(raw)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[dispatch\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(path)
    with pytest.raises(ConfigError, match="no such"):
        load(tmp_path / "missing.toml")
