"""Checks a hashcat mode 5600 (NetNTLMv2) line against a password, independently of
honeyward: NT hash = MD4(UTF-16LE password); key = HMAC-MD5(NT hash, UTF-16LE(upper(user)
+ domain)); NTProofStr = HMAC-MD5(key, server challenge + blob).

usage: ntlmv2_check.py LINE PASSWORD  -> prints "match" or "no match"
"""
import hmac
import sys

from Cryptodome.Hash import MD4  # pycryptodomex, installed with impacket

line, password = sys.argv[1], sys.argv[2]
user, _, domain, challenge, proof, blob = line.split(":")
nt_hash = MD4.new(password.encode("utf-16-le")).digest()
key = hmac.new(nt_hash, (user.upper() + domain).encode("utf-16-le"), "md5").digest()
mine = hmac.new(key, bytes.fromhex(challenge) + bytes.fromhex(blob), "md5").hexdigest()
print("match" if hmac.compare_digest(mine, proof.lower()) else "no match")
