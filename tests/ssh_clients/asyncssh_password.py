"""asyncssh with one wrong password: prints the exception it raises, as JSON."""
import asyncio
import json
import sys

import asyncssh


async def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    try:
        async with asyncssh.connect(host, port, username=user, password=password, known_hosts=None, client_keys=None, agent_path=None, login_timeout=30):
            return "accepted"
    except Exception as e:  # what the client reports is the point
        return f"{type(e).__name__}: {e}"


print(json.dumps(asyncio.run(main())))
