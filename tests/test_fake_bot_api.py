"""The fake Bot API takes a client hanging up mid-request quietly, as a server should."""

from __future__ import annotations

import socket
import struct
import time

from tests.fakes.bot_api import TOKEN, FakeBotAPI


def _hang_up_mid_body(port: int) -> None:
    """Half a request body, then a reset (SO_LINGER 0), like a killed client."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     '{"chat_id": 1'.encode())
        time.sleep(0.1)  # the server is reading the body now
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_client_resetting_mid_request_prints_no_traceback(capfd):
    with FakeBotAPI() as api:
        _hang_up_mid_body(api.port)
        time.sleep(0.3)  # the server thread has handled the reset
        assert api.sent_to(1) == []  # half a request records nothing
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "Exception occurred" not in captured.err + captured.out
