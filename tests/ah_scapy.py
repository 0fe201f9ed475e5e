#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
ah_scapy.py: scapy's AH (scapy.layers.ipsec, RFC 4302; an implementation
nobody on this team wrote) against nfsec's, for tests/33-ah-scapy.sh.

One process serves the whole test, since importing scapy takes seconds
under TCG: it reads commands on stdin, one a line, and answers each with
its lines and then a line ".". A command that fails answers "error: ..."
and the process goes on.

  ready
      answers "ready" (once scapy is imported, which is done first)
  sa SPI ALGO KEY
      an SA for open and forge: ALGO as nfsec names it (hmac-sha256-128,
      hmac-sha1-96), KEY 0x...
  udp SRC DST PORT TEXT [rr-ra|hbh-dst]
      TEXT and a newline in a UDP datagram from SRC:4302 through the
      stack, where nfsec protects it, with IPv4 options NOP, record route
      (room for 2 addresses) and router alert (IP_OPTIONS), or an IPv6
      hop-by-hop and a destination options header (IPV6_HOPOPTS,
      IPV6_DSTOPTS); answers "sent". No scapy.
  open PCAP
      each AH packet of the capture PCAP (Ethernet frames)
      opened with scapy's SecurityAssociation of its SPI, one line each,
      sorted by SPI and sequence number:
        SPI SEQ HEADERS AH_LEN VERDICT TEXT
      HEADERS: ip4, ip4+nop,rr,ra (its options), ip6, ip6+hbh+dst (the
      extension headers before AH); AH_LEN: the AH header's bytes;
      VERDICT: ok (the ICV verifies, and a copy with its last byte
      flipped does not), icv-mismatch, or accepts-flipped; TEXT: the UDP
      payload, its newline cut. Other frames are skipped.
  link IFACE MAC
      forge sends on IFACE (AF_PACKET) to MAC
  forge SPI SEQ SRC DST PORT TEXT [CHANGE...]
      scapy builds TEXT and a newline in a UDP datagram from SRC:4302 to
      DST:PORT, IPv4 with the options NOP, record route (empty, room for
      2), router alert (value 0), IPv6 with a hop-by-hop and a
      destination options header, each holding option 0x3e (may change
      en route) and 0x1e (may not) and padding; signs it with AH as SA
      SPI with sequence number SEQ; then makes each CHANGE, as a router
      or an attacker would, and sends it; answers "sent". CHANGEs:
        ttl          TTL (IPv4) or hop limit (IPv6) one less
        rr:ADDR      ADDR recorded in the record route option
        id           IPv4 identification, bit 0 flipped
        src:ADDR     another source address
        payload      the text's first byte, bit 0 flipped
        opt:HDR:TYPE the data of option TYPE inverted, in the IPv4 header
                     (HDR ip) or the hop-by-hop or destination options
                     header (hbh, dst)
      (the IPv4 header checksum is computed again after them)
"""

import socket
import struct
import sys
import traceback

from scapy.compat import raw
from scapy.layers.inet import IP, UDP, IPOption
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop,
                                HBHOptUnknown, PadN)
from scapy.layers.ipsec import AH, IPSecIntegrityError, SecurityAssociation
from scapy.packet import Raw
from scapy.utils import rdpcap

ALGOS = {"hmac-sha256-128": "SHA2-256-128", "hmac-sha1-96": "HMAC-SHA1-96"}
SPORT = 4302	# (not 4500: scapy would see NAT-T ESP in the UDP payload)

# IPv4 options: NOP, record route (type 7, 11 bytes, pointer 4: two empty
# slots), router alert (type 0x94, value 0)
OPTS4 = bytes([1, 7, 11, 4] + [0] * 8 + [0x94, 4, 0, 0])
OPT4_NAMES = {0: "eol", 1: "nop", 7: "rr", 0x94: "ra"}
# IPv6: option 0x3e (experimental, skip if unknown, may change en route),
# 0x1e (the same, may not change), PadN; data differ per header
HBH_MAY, HBH_FIXED = bytes([1, 2, 3, 4]), bytes([5, 6])
DST_MAY, DST_FIXED = bytes([7, 8, 9, 10]), bytes([11, 12])
EXT_NAMES = {0: "hbh", 60: "dst", 43: "rt"}

sas = {}
link = {}


def ext6_opts(may, fixed):
    return [HBHOptUnknown(otype=0x3e, optdata=may),
            HBHOptUnknown(otype=0x1e, optdata=fixed), PadN(optdata=b"\0\0")]


def ext6_raw(may, fixed):
    """the same as the bytes after a header's next header and length"""
    return (bytes([0x3e, len(may)]) + may + bytes([0x1e, len(fixed)]) +
            fixed + bytes([1, 2, 0, 0]))


def cmd_sa(spi, algo, key):
    spi = int(spi, 0)
    sas[spi] = SecurityAssociation(AH, spi=spi, auth_algo=ALGOS[algo],
                                   auth_key=bytes.fromhex(key[2:]))
    return []


def cmd_udp(src, dst, port, text, opts=""):
    v6 = ":" in dst
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.bind((src, SPORT))
    if opts == "rr-ra":
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, OPTS4)
    elif opts == "hbh-dst":
        # (next header and length: the kernel writes the next header)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS,
                     bytes([0, 1]) + ext6_raw(HBH_MAY, HBH_FIXED))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS,
                     bytes([0, 1]) + ext6_raw(DST_MAY, DST_FIXED))
    elif opts:
        raise ValueError("unknown options " + opts)
    s.sendto((text + "\n").encode(), (dst, int(port)))
    s.close()
    return ["sent"]


def headers(b):
    """HEADERS of an IP packet's bytes, and the offset of its AH header"""
    if b[0] >> 4 == 4:
        ihl = (b[0] & 15) * 4
        names, i = [], 20
        while i < ihl:
            names.append(OPT4_NAMES.get(b[i], "0x%02x" % b[i]))
            i += 1 if b[i] in (0, 1) else b[i + 1]
        return "ip4" + ("+" + ",".join(names) if names else ""), ihl
    names, nh, off = [], b[6], 40
    while nh in EXT_NAMES:
        names.append(EXT_NAMES[nh])
        nh, off = b[off], off + (b[off + 1] + 1) * 8
    return "+".join(["ip6"] + names), off


def cmd_open(path):
    out = []
    for frame in rdpcap(path):
        if IP in frame:
            ip = raw(frame[IP])
            cls = IP
        elif IPv6 in frame:
            ip = raw(frame[IPv6])
            cls = IPv6
        else:
            continue
        pkt = cls(ip)
        if AH not in pkt:
            continue
        hdrs, off = headers(ip)
        ah_len = (ip[off + 1] + 2) * 4
        spi, seq = struct.unpack("!II", ip[off + 4:off + 12])
        sa = sas.get(spi)
        if sa is None:
            out.append((spi, seq, "%s %d no-sa -" % (hdrs, ah_len)))
            continue
        text = "-"
        try:
            inner = sa.decrypt(cls(ip))
            verdict = "ok"
            text = UDP(raw(inner.lastlayer())).load.decode(errors="replace")
            text = text.rstrip("\n") or "-"
        except IPSecIntegrityError:
            verdict = "icv-mismatch"
        flipped = bytearray(ip)
        flipped[-1] ^= 1
        try:
            sa.decrypt(cls(bytes(flipped)))
            verdict = "accepts-flipped"
        except IPSecIntegrityError:
            pass
        out.append((spi, seq, "%s %d %s %s" % (hdrs, ah_len, verdict, text)))
    return ["0x%x %d %s" % o for o in sorted(out)]


def cmd_link(iface, mac):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    link["sock"] = s
    link["head"] = bytes.fromhex(mac.replace(":", "")) + s.getsockname()[4]
    return []


def ip4_checksum(b, ihl):
    b[10:12] = b"\0\0"
    s = sum(struct.unpack("!%dH" % (ihl // 2), bytes(b[:ihl])))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    b[10:12] = struct.pack("!H", ~s & 0xffff)


def option_data(b, start, end, otype, v6):
    """the offsets of the data of option OTYPE in b[start:end]"""
    i = start
    while i < end:
        if b[i] == otype:
            n = b[i + 1] if v6 else b[i + 1] - 2
            return i + 2, i + 2 + n
        if (v6 and b[i] == 0) or (not v6 and b[i] in (0, 1)):
            i += 1
        else:
            i += b[i + 1] + (2 if v6 else 0)
    raise ValueError("no option 0x%02x" % otype)


def change(b, what, ah_off):
    v6 = b[0] >> 4 == 6
    kind, _, arg = what.partition(":")
    payload = ah_off + (b[ah_off + 1] + 2) * 4 + 8
    if kind == "ttl":
        b[7 if v6 else 8] -= 1
    elif kind == "id" and not v6:
        b[5] ^= 1
    elif kind == "src":
        if v6:
            b[8:24] = socket.inet_pton(socket.AF_INET6, arg)
        else:
            b[12:16] = socket.inet_aton(arg)
    elif kind == "payload":
        b[payload] ^= 1
    elif kind == "rr" and not v6:
        i, _ = option_data(b, 20, (b[0] & 15) * 4, 7, False)
        ptr = b[i]	# (i: the pointer, then the slots)
        b[i - 2 + ptr - 1:i - 2 + ptr + 3] = socket.inet_aton(arg)
        b[i] = ptr + 4
    elif kind == "opt":
        hdr, _, otype = arg.partition(":")
        if hdr == "ip" and not v6:
            start, end = 20, (b[0] & 15) * 4
        else:
            want = {"hbh": 0, "dst": 60}[hdr]
            nh, start = b[6], 40
            while nh != want:
                if nh not in EXT_NAMES:
                    raise ValueError("no %s header" % hdr)
                nh, start = b[start], start + (b[start + 1] + 1) * 8
            end = start + (b[start + 1] + 1) * 8
            start += 2
        i, j = option_data(b, start, end, int(otype, 0), v6)
        for k in range(i, j):
            b[k] ^= 0xff
    else:
        raise ValueError("unknown change " + what)


def cmd_forge(spi, seq, src, dst, port, text, *changes):
    sa = sas[int(spi, 0)]
    udp = UDP(sport=SPORT, dport=int(port)) / Raw((text + "\n").encode())
    if ":" in dst:
        pkt = IPv6(raw(IPv6(src=src, dst=dst, hlim=64) /
                       IPv6ExtHdrHopByHop(options=ext6_opts(HBH_MAY, HBH_FIXED)) /
                       IPv6ExtHdrDestOpt(options=ext6_opts(DST_MAY, DST_FIXED)) /
                       udp))
        ethertype = b"\x86\xdd"
    else:
        pkt = IP(raw(IP(src=src, dst=dst, ttl=64, id=0x3300 + int(seq),
                        options=[IPOption(OPTS4)]) / udp))
        ethertype = b"\x08\x00"
    b = bytearray(raw(sa.encrypt(pkt, seq_num=int(seq))))
    _, ah_off = headers(b)
    for c in changes:
        change(b, c, ah_off)
    if b[0] >> 4 == 4:
        ip4_checksum(b, ah_off)
    link["sock"].send(link["head"] + ethertype + bytes(b))
    return ["sent"]


COMMANDS = {"ready": lambda: ["ready"], "sa": cmd_sa, "udp": cmd_udp,
            "open": cmd_open, "link": cmd_link, "forge": cmd_forge}


def main():
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            out = COMMANDS[words[0]](*words[1:])
        except Exception as e:	# answered, and on to the next command
            out = ["error: %s: %s" % (type(e).__name__, e)]
            traceback.print_exc(file=sys.stderr)
        for o in out:
            print(o)
        print(".", flush=True)


if __name__ == "__main__":
    main()
