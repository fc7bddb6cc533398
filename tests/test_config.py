"""The config contract of SPEC.md: every key, defaults, durations, env overrides, one line per problem."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, HealthConfig, load_config, parse_config, parse_duration

ROOT = Path(__file__).resolve().parents[1]


def problems_of(data: dict, env: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, env or {})
    return info.value.problems


@pytest.mark.parametrize("text, seconds", [
    ("90s", 90), ("5m", 300), ("2h", 7200), ("30d", 30 * 86400), (45, 45), ("0.5s", 0.5),
])
def test_durations_accept_units_and_integer_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5x", "", "-5m", 0, "m5", True])
def test_durations_refuse_garbage_and_non_positive(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_defaults_fill_every_section():
    config = parse_config({}, {})
    assert config.bot.default_language == "en"
    assert config.storage.retention == 30 * 86400
    assert config.polling.interval == 300
    assert config.polling.timeout == 20
    assert config.polling.max_bytes == 10_000_000
    assert config.polling.concurrency == 16
    assert config.polling.allow_private_addresses is False
    assert config.translation.provider == "google"
    assert config.translation.timeout == 15


def test_env_wins_over_token_and_translation_key():
    config = parse_config(
        {"bot": {"token": "file"}, "translation": {"api_key": "file"}},
        {"COVERAGE_BOT_TOKEN": "env-token", "COVERAGE_BOT_TRANSLATION_KEY": "env-key"},
    )
    assert config.bot.token == "env-token"
    assert config.translation.api_key == "env-key"


def test_short_intervals_are_honoured_with_a_warning():
    config = parse_config({"polling": {"interval": "2s"}}, {})
    assert config.polling.interval == 2
    assert any("below a minute" in w for w in config.warnings)


def test_unknown_key_is_named():
    assert problems_of({"bot": {"tokn": "x"}}) == ["bot.tokn: unknown key"]
    assert problems_of({"pollling": {}}) == ["pollling: unknown key"]


def test_bad_type_names_key_and_expectation():
    [problem] = problems_of({"polling": {"concurrency": "many"}})
    assert problem.startswith("polling.concurrency: expected integer")


def test_polling_concurrency_is_bounded_with_its_reason():
    [problem] = problems_of({"polling": {"concurrency": 10_000}})
    assert problem == ("polling.concurrency: at most 256, got 10000 (each feed fetched at once "
                       "holds a connection and up to polling.max_bytes in memory)")
    assert parse_config({"bot": {"token": "t"}, "polling": {"concurrency": 256}},
                        {}).polling.concurrency == 256


def test_unknown_language_and_provider():
    found = problems_of({"bot": {"default_language": "de"},
                         "translation": {"provider": "babel"}})
    assert "bot.default_language: unknown language 'de' (use en, fr or ru)" in found
    assert any(p.startswith("translation.provider: unknown provider 'babel'") for p in found)


def test_duplicate_feed_urls_and_topic_names():
    found = problems_of({
        "feeds": [{"url": "https://a.example/rss", "language": "fr"},
                  {"url": "https://a.example/rss", "language": "en"}],
        "topics": [{"name": "t", "en": "x"}, {"name": "t", "en": "y"}],
    })
    assert any(p.startswith("feeds[1].url: duplicate feed URL") for p in found)
    assert any(p.startswith("topics[1].name: duplicate topic name 't'") for p in found)


def test_unparsable_duration_is_named():
    [problem] = problems_of({"feeds": [{"url": "https://a.example/", "language": "ru",
                                        "interval": "soon"}]})
    assert problem.startswith("feeds[0].interval: expected a duration")


def test_feed_needs_url_and_language():
    found = problems_of({"feeds": [{"name": "x"}]})
    assert "feeds[0].url: required" in found
    assert "feeds[0].language: required (en, fr or ru)" in found


def test_malformed_topic_query_is_refused_with_its_position():
    [problem] = problems_of({"topics": [{"name": "t", "en": "(ukraine"}]})
    assert problem.startswith("topics[0].en: ")
    assert "position" in problem


def test_every_problem_is_reported_at_once():
    found = problems_of({"bot": {"default_language": "xx", "zzz": 1},
                         "polling": {"interval": "never"}})
    assert len(found) == 3


def test_example_config_is_valid_and_documents_every_key():
    config = load_config(ROOT / "config.example.toml", env={})
    assert {f.language for f in config.feeds} == {"en", "fr", "ru"}
    assert all(set(t.queries) == {"en", "fr", "ru"} for t in config.topics)
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for key in ["token", "admins", "api_base_url", "default_language", "database", "retention",
                "interval", "timeout", "max_bytes", "concurrency", "allow_private_addresses",
                "provider", "base_url", "api_key"]:
        assert f"\n{key} =" in text, key


def test_health_thresholds_are_read_and_checked():
    config = parse_config({"health": {"report_after": "6h", "stale_after": "2d"}}, {})
    assert (config.health.report_after, config.health.stale_after) == (6 * 3600, 2 * 86400)
    assert parse_config({}, {}).health == HealthConfig(24 * 3600, 7 * 86400)
    example = load_config(ROOT / "config.example.toml", env={})
    assert example.health == HealthConfig(24 * 3600, 7 * 86400)
    [problem] = problems_of({"health": {"stale_after": "soon"}})
    assert problem.startswith("health.stale_after: ")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


def test_check_exits_2_with_one_line_per_problem_and_no_traceback(tmp_path):
    (tmp_path / "config.toml").write_text(
        '[bot]\ndefault_language = "de"\n[polling]\ninterval = "soon"\nbogus = 1\n')
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith("config.toml: ") for line in lines)
    assert "Traceback" not in result.stderr


def test_check_reports_invalid_toml_and_missing_file(tmp_path):
    (tmp_path / "bad.toml").write_text("[bot\n")
    result = run_cli("check", "--config", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2 and "not valid TOML" in result.stderr
    result = run_cli("check", "--config", "missing.toml", cwd=tmp_path)
    assert result.returncode == 2 and "no such config file" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_accepts_the_example(tmp_path):
    result = run_cli("check", "--config", str(ROOT / "config.example.toml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_run_without_token_exits_2(tmp_path):
    (tmp_path / "config.toml").write_text("")
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "no bot token" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300"])
def test_durations_that_are_not_finite_or_absurd_are_refused(value):
    problems = problems_of(tomllib.loads(f"[polling]\ninterval = {value}\ntimeout = {value}\n"
                                         f"max_retry_after = {value}\n"
                                         f"[storage]\nretention = {value}\n"))
    assert [p.split(":")[0] for p in problems] == [
        "storage.retention", "polling.interval", "polling.timeout", "polling.max_retry_after"]


def test_max_retry_after_is_a_duration_under_polling():
    assert parse_config({}, {}).polling.max_retry_after == 6 * 3600
    assert parse_config({"polling": {"max_retry_after": "30m"}}, {}).polling.max_retry_after == 1800
    assert problems_of({"polling": {"max_retry_after": "later"}})[0].startswith(
        "polling.max_retry_after: expected a duration")


@pytest.mark.parametrize("url, problem", [
    ("http://[::1/feed", "malformed URL 'http://[::1/feed' (Invalid IPv6 URL)"),
    ("http://example.com:99999/feed", "malformed URL 'http://example.com:99999/feed' "
                                      "(Port out of range 0-65535)"),
    ("http://example.com:x/feed", "malformed URL 'http://example.com:x/feed' "
                                  "(Port could not be cast to integer value as 'x')"),
    ("http://:80/feed", "no host in URL 'http://:80/feed'"),
    ("ftp://example.com/feed", "expected an http(s) URL, got 'ftp://example.com/feed'"),
])
def test_malformed_urls_are_one_line_each(url, problem):
    data = {"feeds": [{"url": url, "language": "en"}],
            "bot": {"api_base_url": url}, "translation": {"base_url": url}}
    assert problems_of(data) == [f"bot.api_base_url: {problem}",
                                 f"translation.base_url: {problem}",
                                 f"feeds[0].url: {problem}"]


@pytest.mark.parametrize("line", ['url = "http://[::1/feed"', 'url = "http://x.org:99999/f"'])
def test_check_on_a_malformed_feed_url_is_one_line_and_exit_2(tmp_path, line):
    (tmp_path / "config.toml").write_text(f'[[feeds]]\n{line}\nlanguage = "en"\n')
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("config.toml: feeds[0].url: malformed URL")


def test_topic_titles_per_language_and_the_default_time_zone():
    config = parse_config({"bot": {"default_timezone": "Europe/Paris"},
                           "topics": [{"name": "gas", "title": "Gas", "title_fr": "Gaz",
                                       "title_ru": " Газ ", "en": "gas"}]}, {})
    assert config.bot.default_timezone == "Europe/Paris"
    assert dict(config.topics[0].titles) == {"fr": "Gaz", "ru": "Газ"}
    assert parse_config({}, {}).bot.default_timezone == "UTC"
    with pytest.raises(ConfigError) as info:
        parse_config({"bot": {"default_timezone": "Mars/Olympus"},
                      "topics": [{"name": "gas", "title_de": "Gas", "en": "gas"}]}, {})
    assert info.value.problems == [
        "bot.default_timezone: unknown time zone 'Mars/Olympus' "
        "(use an IANA name like \"Europe/Paris\")",
        "topics[0].title_de: unknown key"]


def test_adaptive_polling_bounds_widen_to_a_short_interval_and_must_be_ordered():
    config = parse_config({"polling": {"interval": "10s"}}, {})
    assert config.polling.adaptive is True
    assert config.polling.bounds == (10, 7200)
    assert parse_config({}, {}).polling.bounds == (60, 7200)
    with pytest.raises(ConfigError, match="polling.min_interval: 7200s is longer"):
        parse_config({"polling": {"min_interval": "2h", "max_interval": "1h"}}, {})


def test_websub_listen_must_be_host_and_port():
    assert parse_config({}, {}).websub.public_url == ""
    with pytest.raises(ConfigError, match="websub.listen: 'nowhere' is not HOST:PORT"):
        parse_config({"websub": {"listen": "nowhere"}}, {})
