"""A minimal inetd for the sshd peer: listen on ADDRESS:PORT here, serve each connection inside a network namespace.

    python inetd.py ADDRESS PORT NETNS COMMAND...

A socket keeps the namespace it was made in, so the listener stays on the loopback address the tests and
the lab reach, while each connection's COMMAND (`sshd -i`) starts through `nsenter --net=NETNS` with the
connection as its stdin and stdout. Run as root (nsenter needs it); stopped with SIGTERM, its children by
whoever started it (SshdPeer.stop kills every descendant).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys


def serve(address: str, port: int, netns: str, command: list[str]) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps finished sessions; nobody waits for them
    with socket.create_server((address, port), backlog=64) as listener:
        while True:
            connection, _ = listener.accept()
            with connection:
                subprocess.Popen(
                    ["nsenter", f"--net={netns}", *command],
                    stdin=connection.fileno(),
                    stdout=connection.fileno(),
                    close_fds=True,
                )


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:])
