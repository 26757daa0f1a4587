"""Fetches an RDP server's TLS certificate as a client with NLA does: X.224 Connection
Request asking for CredSSP, the Connection Confirm, then TLS. Prints the certificate's
subject, issuer, validity in days, extended key usage and whether it has a SAN.

usage: rdp_certificate.py HOST PORT
"""
import socket
import ssl
import sys

from cryptography import x509  # installed with impacket
from cryptography.x509.oid import ExtensionOID

host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
cookie = b"Cookie: mstshash=audit\r\n"
neg = bytes([0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00])
x224 = bytes([6 + len(cookie) + len(neg), 0xE0, 0, 0, 0, 0, 0]) + cookie + neg
s.sendall(bytes([3, 0]) + (4 + len(x224)).to_bytes(2, "big") + x224)
confirm = s.recv(19)
print("confirm", confirm.hex())
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s)
cert = x509.load_der_x509_certificate(t.getpeercert(binary_form=True))
print("version", t.version())
print("subject", cert.subject.rfc4514_string())
print("issuer", cert.issuer.rfc4514_string())
print("days", (cert.not_valid_after_utc - cert.not_valid_before_utc).days)
print("key", cert.public_key().key_size)
print("serial_bytes", (cert.serial_number.bit_length() + 7) // 8)
print("eku", ",".join(u.dotted_string for u in cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value))
print("extensions", len(cert.extensions))
print("fingerprint", cert.fingerprint(cert.signature_hash_algorithm).hex())
