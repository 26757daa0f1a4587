"""Logs in to an SMB server with impacket, as its smbclient.py does, and prints what
the server said: "logged in", or the error impacket raised.

usage: impacket_login.py HOST PORT DOMAIN USER PASSWORD
"""
import sys

from impacket.smbconnection import SMBConnection, SessionError

host, port, domain, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
conn = SMBConnection(host, host, sess_port=port, timeout=10)
try:
    conn.login(user, password, domain)
    print("logged in")
except SessionError as e:
    print("error", e.getErrorString()[0])
# What the server's NTLM CHALLENGE said of it (read during the login).
print("server", conn.getServerName(), conn.getServerDomain(), conn.getServerDNSDomainName(), conn.getServerOS())
