#!/usr/bin/env python3
"""Runs a command while a listening socket holds 127.0.0.1:PORT, as an unrelated
server on the machine would: `make test` runs its integration suite this way on
18080 (the HTTP port the test stack once took for itself), which shows that the test
stack chooses free ports. A port something else already holds is the same
condition, so that is fine too. Usage: tests/with_port_held.py PORT COMMAND..."""
import socket
import subprocess
import sys

port = int(sys.argv[1])
s = socket.socket()
try:
    s.bind(("127.0.0.1", port))
    s.listen(1)
    print(f"with_port_held: 127.0.0.1:{port} is held by this process while the tests run", flush=True)
except OSError as e:
    print(f"with_port_held: 127.0.0.1:{port} is already taken ({e.strerror}): held by another program", flush=True)
sys.exit(subprocess.run(sys.argv[2:], pass_fds=()).returncode)
