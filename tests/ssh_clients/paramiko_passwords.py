"""Paramiko as brute-forcers use it: one connection, N passwords. Each auth_password
call sends its own SERVICE_REQUEST, so the server sees repeated SERVICE_REQUESTs.
Prints one outcome per attempt, as JSON: what paramiko reported, nothing else."""
import json
import sys

import paramiko

host, port, user, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
transport = paramiko.Transport((host, port))
transport.banner_timeout = 30
transport.start_client(timeout=30)
outcomes = []
for i in range(count):
    try:
        transport.auth_password(user, f"paramiko-{i}")
        outcomes.append("accepted")
    except paramiko.BadAuthenticationType as e:
        outcomes.append(f"bad-auth-type {sorted(e.allowed_types)}")
    except paramiko.AuthenticationException as e:
        outcomes.append(f"denied: {e}")
    except paramiko.SSHException as e:
        outcomes.append(f"ssh-exception: {e}")
    except EOFError:
        outcomes.append("eof")
transport.close()
print(json.dumps(outcomes))
