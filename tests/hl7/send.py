"""Sends HL7 v2 messages over MLLP with the `hl7` package's client (what its
mllp_send uses) and checks each acknowledgement with hl7apy: parsed and validated
strictly for versions hl7apy can build ACKs of (2.4 on), tolerantly before.

usage: send.py HOST PORT MESSAGE_FILE...   (one message per file, segments on CR)
Prints per message: "ack <MSA-1> <MSA-2> <ACK's MSH-9> <ACK's MSH-12> <valid|tolerant>".
"""
import sys

import hl7
from hl7.client import MLLPClient
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

host, port, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
with MLLPClient(host, port) as client:
    for path in files:
        message = open(path, "rb").read().decode("latin-1")
        # The client hands back the frame as received: its blocks taken off here.
        answer = client.send_message(message).decode("latin-1").lstrip("\x0b").rstrip("\x1c\r") + "\r"
        version = str(hl7.parse(answer).segment("MSH")[12])
        strict = version >= "2.4"
        level = VALIDATION_LEVEL.STRICT if strict else VALIDATION_LEVEL.TOLERANT
        ack = parse_message(answer, validation_level=level, find_groups=False)
        if strict:
            ack.validate()
        print("ack", ack.msa.msa_1.value, ack.msa.msa_2.value, ack.msh.msh_9.value, ack.msh.msh_12.value, "valid" if strict else "tolerant")
