"""Times wrong-password answers: for each user, `count` attempts on one connection
(fewer than MaxAuthTries), seconds from sending USERAUTH_REQUEST to its FAILURE (the
SERVICE_REQUEST paramiko sends first is answered at once and excluded). JSON out."""
import json
import sys
import time

import paramiko
from paramiko.common import MSG_USERAUTH_FAILURE

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
users = sys.argv[4:]
times = {}
for user in users:
    transport = paramiko.Transport((host, port))
    transport.start_client(timeout=30)
    sent = {}
    packetizer = transport.packetizer
    original_send = packetizer.send_message

    def send(message, _orig=original_send):
        data = message.asbytes()
        if data[:1] == bytes([50]):
            sent["t"] = time.monotonic()
        return _orig(message)

    packetizer.send_message = send
    samples = []
    for i in range(count):
        try:
            transport.auth_password(user, f"wrong-{i}")
        except paramiko.AuthenticationException:
            samples.append(round(time.monotonic() - sent["t"], 4))
    transport.close()
    times[user] = samples
print(json.dumps(times))
