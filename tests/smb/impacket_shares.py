"""Logs in to an SMB server with impacket and lists its shares as impacket's
smbclient.py `shares` does (srvsvc NetrShareEnum over IPC$); prints the names.

usage: impacket_shares.py HOST PORT DOMAIN USER PASSWORD
"""
import sys

from impacket.smbconnection import SMBConnection

host, port, domain, user, password = sys.argv[1:6]
conn = SMBConnection(host, host, sess_port=int(port), timeout=10)
conn.login(user, password, domain)
print(" ".join(s["shi1_netname"][:-1] for s in conn.listShares()))
conn.logoff()
