"""Stopping the service: SIGTERM does not wait for a hanging feed, Ctrl-C leaves no tracebacks.

Polls in flight get 2 s (STOP_GRACE), then the service exits: about 3 s on an idle
machine. The bounds below leave room for a busy one, far under the 60 s a hanging
feed would hold a stop that waited for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.feeds import FeedServer


def start_service(tmp_path: Path, url: str) -> subprocess.Popen:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
database = "{tmp_path / 'db.sqlite3'}"
[polling]
interval = "1h"
timeout = "60s"
max_bytes = 50_000_000
allow_private_addresses = true
[translation]
provider = "none"
[[feeds]]
url = "{url}"
language = "en"
[[topics]]
name = "t"
en = "ukraine"
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_BOT_")}
    # A session of its own, as a shell gives a job: Ctrl-C is sent to its whole group.
    return subprocess.Popen([sys.executable, "-m", "bot", "run", "--console", "--config",
                             str(config)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_hit(server: FeedServer, path: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while server.hits(path) == 0:
        assert process.poll() is None, process.communicate()[1]
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the service never fetched the feed")
        time.sleep(0.05)


def stop_and_time(process: subprocess.Popen, stop) -> tuple[str, float]:
    """(stderr, seconds from `stop()` to the exit)."""
    try:
        started = time.monotonic()
        stop()
        _, err = process.communicate(timeout=30)
        return err, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()


def big_feed(items: int) -> bytes:
    body = "".join(f"<item><title>Ukraine item {i}</title><link>https://news.example/{i}</link>"
                   f"<description>{'Long summary text about Ukraine. ' * 12}</description></item>"
                   for i in range(items))
    return f'<rss version="2.0"><channel><title>big</title>{body}</channel></rss>'.encode()


STOPPED_WITHIN = 20.0


def test_sigterm_stops_without_waiting_for_a_hanging_feed(tmp_path):
    with FeedServer() as server:
        url = server.add("/hang.xml", b"<rss/>", hang=60.0)
        process = start_service(tmp_path, url)
        wait_for_hit(server, "/hang.xml", process)
        err, took = stop_and_time(process, lambda: process.send_signal(signal.SIGTERM))
    assert process.returncode == 0, err
    assert took < STOPPED_WITHIN, f"stopping took {took:.1f}s"
    assert "Traceback" not in err


def test_ctrl_c_during_a_parse_stops_gracefully_without_worker_tracebacks(tmp_path):
    with FeedServer() as server:
        url = server.add("/big.xml", big_feed(15_000))  # seconds of feedparser's work
        process = start_service(tmp_path, url)
        wait_for_hit(server, "/big.xml", process)
        time.sleep(1.5)  # the body is in, a parse worker is on it
        # What a terminal's Ctrl-C does: SIGINT to the whole process group.
        err, took = stop_and_time(process, lambda: os.killpg(process.pid, signal.SIGINT))
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "stopping" in err  # the graceful path, not an interrupted one
    assert took < STOPPED_WITHIN, f"stopping took {took:.1f}s: {err}"


def test_ctrl_c_while_a_parse_worker_starts_leaves_no_traceback(tmp_path):
    # The first body starts a worker process, which takes a moment (seconds when the
    # machine is busy): a Ctrl-C in that moment must not interrupt the worker's imports.
    with FeedServer() as server:
        url = server.add("/big.xml", big_feed(15_000))
        process = start_service(tmp_path, url)
        wait_for_hit(server, "/big.xml", process)
        time.sleep(0.1)  # the body is coming in; the worker starts as soon as it is
        err, _ = stop_and_time(process, lambda: os.killpg(process.pid, signal.SIGINT))
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "BrokenProcessPool" not in err, err
