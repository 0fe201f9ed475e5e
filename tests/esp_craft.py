#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
esp_craft.py KEY PACKET...: send ESP packets made from scratch for an SA
with null encryption and hmac-sha256-128 (`enc null auth hmac-sha256-128
key KEY`), so that a test can send what no sender would: a valid ICV over
a wrong trailer, a dummy packet, sequence number 0, an inner packet outside
the receiver's policy.

Each PACKET is SRC:DST:SPI:SEQ:MODE:ISRC:IDST:DPORT[:VARIANT], sent from SRC
(an address of this namespace) to DST through a raw IP socket. The payload
is a UDP datagram from port 4444 to DPORT with the 4 bytes "edge": 32 bytes
as an IPv4 packet. MODE is
  transport   the UDP datagram is the ESP payload (ISRC, IDST unused: "-")
  tunnel      an IPv4 packet ISRC -> IDST holding it is the payload
and VARIANT alters the trailer (RFC 4303 2.4-2.6):
  (none)      pad 1, 2, pad length 2, next header 17 or 4
  dummy       next header 59 (IPPROTO_NONE), a dummy packet
  pad         pad bytes 1, 3 instead of 1, 2
  padlen      pad length 200, more than the payload
  nh17        tunnel mode with next header 17 instead of 4

ICV: HMAC-SHA-256 over SPI, sequence number and payload, the first 16
bytes (RFC 4868; null encryption has no IV, RFC 2410). Standard library
only, so that a VM run starts no scapy. One output line per packet.
"""

import hashlib
import hmac
import socket
import struct
import sys

IPPROTO_ESP = 50


def checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64,
                      proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def esp(key, spi, seq, payload, nh, variant):
    padn = -(len(payload) + 2) % 4
    pad = bytes(range(1, padn + 1))
    padlen = len(pad)
    if variant == "pad":
        pad = bytes([1, 3]) + pad[2:]
    elif variant == "padlen":
        padlen = 200
    elif variant == "dummy":
        nh = 59
    elif variant == "nh17":
        nh = 17
    elif variant:
        raise SystemExit("unknown variant %r" % variant)
    body = struct.pack("!II", spi, seq) + payload + pad + bytes([padlen, nh])
    return body + hmac.new(key, body, hashlib.sha256).digest()[:16]


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    key = bytes.fromhex(sys.argv[1].removeprefix("0x"))
    for spec in sys.argv[2:]:
        src, dst, spi, seq, mode, isrc, idst, dport, *variant = spec.split(":")
        variant = variant[0] if variant else ""
        udp = struct.pack("!HHHH", 4444, int(dport), 12, 0) + b"edge"
        if mode == "transport":
            payload, nh = udp, 17
        elif mode == "tunnel":
            payload, nh = ipv4(isrc, idst, 17, udp), 4
        else:
            raise SystemExit("unknown mode %r" % mode)
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_ESP)
        sock.bind((src, 0))
        sock.sendto(esp(key, int(spi, 0), int(seq, 0), payload, nh, variant),
                    (dst, 0))
        sock.close()
        print("sent %s" % spec)


if __name__ == "__main__":
    main()
