"""The [surges] table: SPEC's keys and defaults, documented in config.example.toml."""

from pathlib import Path

import pytest

from bot.config import ConfigError, SurgesConfig, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]


def test_surges_default_to_spec_values():
    surges = parse_config({}, {}).surges
    assert surges == SurgesConfig(enabled=True, window=7200.0, min_entries=5, factor=4.0)


def test_surges_keys_are_read():
    surges = parse_config({"surges": {"enabled": False, "window": "30m", "min_entries": 3,
                                      "factor": 2.5}}, {}).surges
    assert surges == SurgesConfig(enabled=False, window=1800.0, min_entries=3, factor=2.5)


@pytest.mark.parametrize("table, fragment", [
    ({"window": "soon"}, "surges.window"),
    ({"min_entries": 0}, "surges.min_entries"),
    ({"factor": 0.5}, "surges.factor"),
    ({"enabled": "yes"}, "surges.enabled"),
    ({"treshold": 3}, "surges.treshold: unknown key"),
])
def test_bad_surges_keys_get_one_line_each(table, fragment):
    with pytest.raises(ConfigError) as info:
        parse_config({"surges": table}, {})
    [problem] = info.value.problems
    assert fragment in problem


def test_example_config_documents_the_surges_keys():
    config = load_config(ROOT / "config.example.toml", env={})
    assert config.surges == SurgesConfig()
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    section = text.split("[surges]", 1)[1].split("\n[", 1)[0]
    for key in ("enabled", "window", "min_entries", "factor"):
        assert f"\n{key} =" in section, key
