"""Sends HL7 v2 messages over MLLP with the `hl7` package's client (what its
mllp_send uses) and checks each reply with hl7apy: parsed and validated strictly
(groups found) for versions hl7apy has message structures of (2.4 on), tolerantly
before.

usage: send.py [--tls] HOST PORT MESSAGE_FILE...   (one message per file, segments on CR)
With --tls the client's socket is wrapped in TLS first (the certificate is not
checked: a generated one; its subject is printed as "tls <protocol> <subject CN>").
Prints per message:
  "reply <MSA-1> <MSA-2> <MSH-9> <MSH-10> <MSH-12> <valid|tolerant> <PIDs> <first PID-3.1> <first PID-5>"
"""
import ssl
import sys

import hl7
from hl7.client import MLLPClient
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

args = sys.argv[1:]
tls = args[0] == "--tls"
if tls:
    args = args[1:]
host, port, files = args[0], int(args[1]), args[2:]
with MLLPClient(host, port) as client:
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        client.socket = context.wrap_socket(client.socket)
        cert = ssl.DER_cert_to_PEM_cert(client.socket.getpeercert(binary_form=True))
        print("tls", client.socket.version(), "certificate" if "BEGIN CERTIFICATE" in cert else "none")
    for path in files:
        message = open(path, "rb").read().decode("latin-1")
        # The client hands back the frame as received: its blocks taken off here.
        answer = client.send_message(message).decode("latin-1").lstrip("\x0b").rstrip("\x1c\r") + "\r"
        parsed = hl7.parse(answer)
        version = str(parsed.segment("MSH")[12])
        strict = version >= "2.4"
        level = VALIDATION_LEVEL.STRICT if strict else VALIDATION_LEVEL.TOLERANT
        reply = parse_message(answer, validation_level=level, find_groups=strict)
        if strict:
            reply.validate()
        pids = [s for s in parsed if str(s[0]) == "PID"]
        first_id = str(pids[0][3][0][0]) if pids else "-"
        first_name = str(pids[0][5][0]) if pids else "-"
        msh = parsed.segment("MSH")
        msa = parsed.segment("MSA")
        print("reply", msa[1], msa[2], msh[9], msh[10], msh[12], "valid" if strict else "tolerant", len(pids), first_id, first_name)
