"""One service per database: a second `run` on a database a live service holds is refused in
one line; the lock of a service that was killed is taken over by the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.feeds import FeedServer, fixture
from tests.test_cli import write_config


def start(config: Path, cwd: Path, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_BOT_")}
    return subprocess.Popen([sys.executable, "-m", "bot", "run", *extra, "--config", str(config)],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_running(process: subprocess.Popen, server: FeedServer, path: str) -> None:
    deadline = time.monotonic() + 60  # a hang guard: a busy machine starts slowly
    while server.hits(path) < 1:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the service did not start polling"
        time.sleep(0.05)


def test_a_second_service_on_the_same_database_is_refused_and_a_killed_ones_is_taken_over(
        tmp_path):
    with FeedServer() as server:
        url = server.add("/fr.xml", fixture("fr-monde.xml"))
        # A token for the Telegram run; the lease is checked before the Bot API is called.
        config = write_config(tmp_path, [(url, "fr")],
                              extra='[bot]\ntoken = "1:x"\napi_base_url = "http://127.0.0.1:9/bot"')
        first = start(config, tmp_path, "--console")
        try:
            wait_running(first, server, "/fr.xml")
            second = start(config, tmp_path)  # a Telegram run needs a token: lease first
            _, err = second.communicate(timeout=30)
            assert second.returncode == 2
            lines = [line for line in err.splitlines() if not line.startswith("warning:")]
            assert len(lines) == 1, err
            assert "cli.sqlite3" in err and "in use" in err and str(first.pid) in err
            third = start(config, tmp_path, "--console")
            _, err = third.communicate(timeout=30)
            assert third.returncode == 2 and "in use" in err

            first.send_signal(signal.SIGKILL)
            first.wait(10)
            hits = server.hits("/fr.xml")
            again = start(config, tmp_path, "--console")
            try:
                deadline = time.monotonic() + 60
                while server.hits("/fr.xml") < hits + 2:
                    assert again.poll() is None, again.communicate()[1]
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            finally:
                again.send_signal(signal.SIGTERM)
                _, err = again.communicate(timeout=20)
            assert again.returncode == 0 and "Traceback" not in err
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
