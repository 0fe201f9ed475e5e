#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Published ESP packet vectors for tests/31-vectors.sh.
#
#   vectors.py check
#       Open every vector with scapy's own SecurityAssociation (an oracle
#       nobody on this team wrote) and compare the plaintext with the one
#       the document gives: proves the bytes below were copied right.
#   vectors.py inject PEER_NETNS RX_IF RX_LINK PEER_IF
#       Run in the receiving namespace (the one with nfsec): listen on RX_IF
#       there (nfsec0: the decapsulated packets), switch to PEER_NETNS (a
#       name under /run/netns), and from PEER_IF send each vector, first with
#       its last ICV byte flipped, then as published, to the MAC of RX_LINK
#       (the receiver's end of the link). Report what came out of nfsec0 and which
#       answers (echo reply, port unreachable) came back on PEER_IF.
#
# Output: one "NAME KEY VALUE" line per finding, read by the shell script.
#
# Vectors:
#  rfc7634   RFC 7634 appendix A: ChaCha20-Poly1305 ESP, tunnel mode,
#            203.0.113.153 -> 203.0.113.5, SPI 0x01020304, seq 5,
#            IV 1011121314151617, key 80..9f, salt a0a1a2a3; inner ICMP echo
#            request 198.51.100.5 -> 192.0.2.5. The whole IPv4 packet, outer
#            header included, is the RFC's.
#  mcgrew2   draft-mcgrew-gcm-test-01 section 4 case 2: AES-GCM-128 ESP,
#            SPI 0x0000a5f8, seq 10, IV facedbaddecaf888, key
#            feffe9928665731c6d6a8f9467308308, salt cafebabe, ICV 16; the
#            payload is an IPv4 packet (tunnel mode: UDP DNS query
#            192.168.1.2:2712 -> 192.168.1.1:53). The draft gives only the
#            ESP part; the outer header here is ours (same addresses as
#            rfc7634's, which the GCM AAD does not cover).

import ctypes
import os
import select
import socket
import sys
import time


def h(s):
    return bytes.fromhex("".join(s.split()))


VECTORS = {
    "rfc7634": {
        "algo": "CHACHA20-POLY1305",
        "key": h("""80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f
                    90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f
                    a0 a1 a2 a3"""),
        "spi": 0x01020304,
        "outer": h("""45 00 00 8c 23 45 00 00 40 32 de 5b cb 00 71 99
                      cb 00 71 05"""),
        "esp": h("""01 02 03 04 00 00 00 05 10 11 12 13 14 15 16 17
                    24 03 94 28 b9 7f 41 7e 3c 13 75 3a 4f 05 08 7b
                    67 c3 52 e6 a7 fa b1 b9 82 d4 66 ef 40 7a e5 c6
                    14 ee 80 99 d5 28 44 eb 61 aa 95 df ab 4c 02 f7
                    2a a7 1e 7c 4c 4f 64 c9 be fe 2f ac c6 38 e8 f3
                    cb ec 16 3f ac 46 9b 50 27 73 f6 fb 94 e6 64 da
                    91 65 b8 28 29 f6 41 e0 76 aa a8 26 6b 7f b0 f7
                    b1 1b 36 99 07 e1 ad 43"""),
        "inner": h("""45 00 00 54 a6 f2 00 00 40 01 e7 78 c6 33 64 05
                      c0 00 02 05 08 00 5b 7a 3a 08 00 00 55 3b ec 10
                      00 07 36 27 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13
                      14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23
                      24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33
                      34 35 36 37"""),
        "trailer": h("01 02 02 04"),
        # the answer: echo reply 192.0.2.5 -> 198.51.100.5
        "answer": (h("c0 00 02 05"), h("c6 33 64 05"), 0),
    },
    "mcgrew2": {
        "algo": "AES-GCM",
        "key": h("fe ff e9 92 86 65 73 1c 6d 6a 8f 94 67 30 83 08 ca fe ba be"),
        "spi": 0x0000a5f8,
        "outer": None,	# built below: 203.0.113.153 -> 203.0.113.5, proto 50
        "esp": h("""00 00 a5 f8 00 00 00 0a fa ce db ad de ca f8 88
                    de b2 2c d9 b0 7c 72 c1 6e 3a 65 be eb 8d f3 04
                    a5 a5 89 7d 33 ae 53 0f 1b a7 6d 5d 11 4d 2a 5c
                    3d e8 18 27 c1 0e 9a 4f 51 33 0d 0e ec 41 66 42
                    cf bb 85 a5 b4 7e 48 a4 ec 3b 9b a9 5d 91 8b d4
                    26 f8 39 1b 99 27 d0 fc c9 84 56 1b bb ce 9f c0"""),
        "inner": h("""45 00 00 3e 69 8f 00 00 80 11 4d cc c0 a8 01 02
                      c0 a8 01 01 0a 98 00 35 00 2a 23 43 b2 d0 01 00
                      00 01 00 00 00 00 00 00 03 73 69 70 09 63 79 62
                      65 72 63 69 74 79 02 64 6b 00 00 01 00 01"""),
        "trailer": h("00 04"),
        # the answer: ICMP port unreachable 192.168.1.1 -> 192.168.1.2
        "answer": (h("c0 a8 01 01"), h("c0 a8 01 02"), 3),
    },
}


def ip_checksum(hdr):
    s = 0
    for i in range(0, len(hdr), 2):
        s += (hdr[i] << 8) | hdr[i + 1]
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def outer_header(v):
    if v["outer"] is not None:
        return v["outer"]
    total = 20 + len(v["esp"])
    hdr = bytearray(h("45 00 00 00 00 01 00 00 40 32 00 00 cb 00 71 99 cb 00 71 05"))
    hdr[2:4] = total.to_bytes(2, "big")
    hdr[10:12] = ip_checksum(hdr).to_bytes(2, "big")
    return bytes(hdr)


def packet(v, tamper=False):
    pkt = bytearray(outer_header(v) + v["esp"])
    if tamper:
        pkt[-1] ^= 0x01
    return bytes(pkt)


def check():
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import ESP, SecurityAssociation

    for name, v in VECTORS.items():
        pkt = IP(packet(v))
        sa = SecurityAssociation(ESP, spi=v["spi"], crypt_algo=v["algo"],
                                 crypt_key=v["key"],
                                 tunnel_header=IP(src="203.0.113.153",
                                                  dst="203.0.113.5"))
        try:
            # Keep the trailer to compare it too: decrypt the ESP layer.
            esp = pkt[ESP]
            plain = sa.crypt_algo.decrypt(sa, esp, sa.crypt_key,
                                          sa.crypt_algo.icv_size)
            # (scapy 2.5's .padding field is unreliable; pad length and
            # next header are what the trailer check needs)
            got_inner = bytes(plain.data)
            got_trailer = bytes([plain.padlen, plain.nh])
            ok = got_inner == v["inner"] and got_trailer == v["trailer"][-2:]
            print(name, "scapy", "ok" if ok else
                  "FAIL inner=%s trailer=%s" % (got_inner.hex(), got_trailer.hex()))
        except Exception as e:	# ICV mismatch and the like
            print(name, "scapy", "FAIL %s: %s" % (type(e).__name__, e))
        # The full path too: scapy's decrypt() of the tunnel packet.
        try:
            inner = sa.decrypt(pkt)
            print(name, "scapy-tunnel",
                  "ok" if bytes(inner) == v["inner"] else "FAIL " + bytes(inner).hex())
        except Exception as e:
            print(name, "scapy-tunnel", "FAIL %s: %s" % (type(e).__name__, e))
        # and that a flipped ICV bit is caught
        try:
            sa.decrypt(IP(packet(v, tamper=True)))
            print(name, "scapy-tamper", "FAIL accepted")
        except Exception:
            print(name, "scapy-tamper", "ok")


CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    os.close(fd)


def inject(peer_ns, rx_if, rx_link, peer_if):
    # In the receiver's namespace: nfsec0 shows the decapsulated packets.
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((rx_if, 0))
    rx_l2 = 14 if rx.getsockname()[3] == 1 else 0	# ARPHRD_ETHER or not
    with open("/sys/class/net/%s/address" % rx_link) as f:
        dst_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    setns("/run/netns/" + peer_ns)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    tx.bind((peer_if, 0))
    src_mac = tx.getsockname()[4]
    print("link", "macs", "%s -> %s" % (src_mac.hex(), dst_mac.hex()))

    for name, v in VECTORS.items():
        for tamper in (True, False):
            frame = dst_mac + src_mac + ETH_P_IP.to_bytes(2, "big") + packet(v, tamper)
            tx.send(frame)
            time.sleep(0.05)

    want_inner = {v["inner"]: name for name, v in VECTORS.items()}
    want_answer = {v["answer"]: name for name, v in VECTORS.items()}
    seen_inner, seen_answer, other = set(), set(), []
    deadline = time.time() + 8
    while time.time() < deadline and (len(seen_inner) < len(VECTORS) or
                                       len(seen_answer) < len(VECTORS)):
        r, _, _ = select.select([rx, tx], [], [], 0.2)
        for s in r:
            data, addr = s.recvfrom(65535)
            if s is rx:
                ip = data[rx_l2:]
                if ip in want_inner:
                    seen_inner.add(want_inner[ip])
                else:
                    other.append("nfsec0 " + ip.hex())
            else:
                if addr[2] == socket.PACKET_OUTGOING or len(data) < 34:
                    continue
                if data[12:14] != ETH_P_IP.to_bytes(2, "big"):
                    continue
                ip = data[14:]
                ihl = (ip[0] & 0x0f) * 4
                if ip[9] != 1:	# ICMP
                    continue
                key = (ip[12:16], ip[16:20], ip[ihl])
                if key in want_answer:
                    seen_answer.add(want_answer[key])
    for name in VECTORS:
        print(name, "decapsulated", "ok" if name in seen_inner else "missing")
        print(name, "answer", "ok" if name in seen_answer else "missing")
    for o in other[:5]:
        print("other", "packet", o)


if __name__ == "__main__":
    if sys.argv[1:2] == ["check"]:
        check()
    elif sys.argv[1:2] == ["inject"] and len(sys.argv) == 6:
        inject(*sys.argv[2:6])
    else:
        sys.exit("usage: vectors.py check | inject PEER_NETNS RX_IF RX_LINK PEER_IF")
