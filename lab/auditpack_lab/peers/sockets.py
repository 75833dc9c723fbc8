"""Loopback sockets that misbehave the way real hosts do: refuse, or accept and say nothing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def refused_port(address: str = "127.0.0.1") -> int:
    """A port on which nothing listens: bind, note the port, close."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


@contextmanager
def silent_server(address: str = "127.0.0.1") -> Iterator[int]:
    """Accepts connections and never sends a byte, like a hung service."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
