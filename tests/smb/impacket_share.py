"""Logs in to an SMB server with impacket and walks one share as its smbclient.py
does: lists the share's root and one folder, downloads one file, tries to upload one.
Prints each listing's names, the file's bytes as hex, and the upload's error.

usage: impacket_share.py HOST PORT DOMAIN USER PASSWORD SHARE FOLDER FILE
"""
import io
import sys

from impacket.smbconnection import SMBConnection, SessionError

host, port, domain, user, password, share, folder, path = sys.argv[1:9]
conn = SMBConnection(host, host, sess_port=int(port), timeout=10)
conn.login(user, password, domain)
print("dialect", hex(conn.getDialect()))
for where in ("*", folder + "\\*"):
    names = sorted(f.get_longname() + ("/" if f.is_directory() else "") for f in conn.listPath(share, where))
    print("list", where, " ".join(names))
got = io.BytesIO()
conn.getFile(share, path, got.write)
print("file", got.getvalue().hex())
try:
    conn.putFile(share, "dropped.txt", io.BytesIO(b"pwned").read)
    print("upload accepted")
except SessionError as e:
    print("upload", e.getErrorString()[0])
conn.logoff()
