#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""campaign.py: a campaign of hostile ESP against one inbound nfsec SA.

Run in the receiving namespace (the one with the SA). It opens a UDP
listener there, an AF_PACKET socket on the sender's veth (through setns,
so one process does both), then builds and sends every frame itself:
aes-gcm-128 tunnel mode, outer 10.0.0.1 -> 10.0.0.2, inner 192.168.1.1:4000
-> 192.168.2.1:5000 UDP. Each frame belongs to a category, and each
category says where nfsec must count it (src/input.c):

  authenticated, malformed inside (valid ICV, fresh sequence number, so
  the replay window commits it before the trailer is looked at):
    pad_len_big     pad length + 2 > ciphertext                bad_trailer
    pad_bytes       a pad byte that is not 1, 2, 3, ...        bad_trailer
    next_hdr_odd    next header neither 4 (IPIP) nor 59        bad_trailer
                    (41, IPv6, over an IPv4 packet)            ns malformed
    dummy           next header 59, any payload (RFC 4303 2.6) dummy
    empty           next header 4, no inner packet at all      ns malformed
    inner_trunc     1-19 bytes of inner IPv4 header            ns malformed
    inner_totlen    inner tot_len beyond the packet            ns malformed
    inner_totlen_lt inner tot_len below its own header         ns malformed
    inner_ihl       inner ihl 0-4                              ns malformed
    inner_ihl_big   inner ihl 15 over a 28-byte packet         ns malformed
    inner_version   inner version 6 (an IPv6 header) or junk   ns malformed
    ecn_ce_not_ect  outer CE over an inner Not-ECT (RFC 6040)  ns malformed
    inner_policy    a valid inner packet no in policy allows   policy
  the rest, malformed outside (or good):
    good            valid packet (random pad up to 255 bytes,  packets,
                    trailing bytes after the inner tot_len,    bytes, and
                    outer CE over inner ECT(0))                 delivered
    frag_good       a valid packet in 2-4 IP fragments, in     packets
                    random order (reassembled before nfsec)
    frag_lone       one fragment of a packet, never completed  nothing
    ip_options      valid packet, outer IPv4 options           packets
    ip_options_bad  outer option of length 0 (the IP layer)    nothing
    outer_bad       outer IPv4 checksum or tot_len wrong       nothing
    trunc_hdr       0-7 bytes of ESP                           ns malformed
    trunc_len       ciphertext < 2 or not a multiple of 4      ns malformed
    trunc_aligned   valid packet cut by 4n bytes               icv_fail
    flip            one bit flipped in IV, ciphertext, ICV or  icv_fail
                    high sequence bit; sometimes followed by
                    the genuine packet (accepted: a failed ICV
                    does not mark the number as seen)
    spi_unknown     an SPI with no SA (0, 1-255, random)       ns no_sa
    spi_out_sa      the SPI of the namespace's outbound SA     ns no_sa
    seq_zero        a valid packet with sequence number 0      replay
    dup             a committed frame again, inside the window replay
    dup_garbage     a committed number, random ciphertext      replay
    old             a committed frame left of the window       replay_old
    old_fresh       a new packet with a number left of it      replay_old
    udp_4500        ESP-in-UDP, markers, junk to port 4500     nothing
                    (nfsec has no UDP encapsulation: the UDP
                    layer's NoPorts counts each one)
    cleartext       the inner packet unprotected               ns cleartext

The last 5 good packets go after everything else: the SA still works.

Usage: campaign.py --sender-ns PATH --iface IF --dst-iface IF --key HEX
                   [--spi N] [--out-spi N] [--window N] [--count N]
                   [--seed N]

IF is the sender's interface (in the namespace at PATH), --dst-iface the
receiver's end of the link (here). Output, one "KEY VALUE" line each: seed,
sent (frames), cats (per category frames), inside (frames authenticated
but malformed inside), top (highest sequence number committed), expect_sa and expect_ns (non-zero counters as "name=value ..."
sorted, the form tests/lib_net.sh's sa_stats and ns_stats print), reached
(packets past the SA lookup and length check), sa_counted
(those of them one of the SA's own counters counts), delivered ("GOT of WANT"),
final ("GOT of 5"), noports ("GOT of WANT"), softnet_dropped.
"""

import argparse
import collections
import ctypes
import os
import random
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CLONE_NEWNET = 0x40000000
SOL_SOCKET = 1
SO_RCVBUFFORCE = 33

OUTER_SRC = socket.inet_aton('10.0.0.1')
OUTER_DST = socket.inet_aton('10.0.0.2')
INNER_SRC = socket.inet_aton('192.168.1.1')
INNER_DST = socket.inet_aton('192.168.2.1')
LISTEN = ('192.168.2.1', 5000)
TOKEN = b'nfsec campaign %08d '

# category: weight, within its group (INSIDE or not); main() draws from
# the INSIDE group whenever it has sent less than half of the frames.
WEIGHTS = {
    'pad_len_big': 6, 'pad_bytes': 6, 'next_hdr_odd': 6, 'dummy': 6,
    'empty': 4, 'inner_trunc': 5, 'inner_totlen': 5, 'inner_totlen_lt': 4,
    'inner_ihl': 5, 'inner_ihl_big': 4, 'inner_version': 4,
    'ecn_ce_not_ect': 3, 'inner_policy': 4,
    'good': 9, 'frag_good': 3, 'frag_lone': 1, 'ip_options': 2,
    'ip_options_bad': 1, 'outer_bad': 1, 'trunc_hdr': 3, 'trunc_len': 4,
    'trunc_aligned': 2, 'flip': 6, 'spi_unknown': 3, 'spi_out_sa': 1,
    'seq_zero': 2, 'dup': 4, 'dup_garbage': 2, 'old': 2, 'old_fresh': 2,
    'udp_4500': 3, 'cleartext': 2,
}

INSIDE = ('pad_len_big', 'pad_bytes', 'next_hdr_odd', 'dummy', 'empty',
          'inner_trunc', 'inner_totlen', 'inner_totlen_lt', 'inner_ihl',
          'inner_ihl_big', 'inner_version', 'ecn_ce_not_ect', 'inner_policy')


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(src, dst, proto, payload, ident, tos=0, frag=0, opts=b'',
        tot_len=None, ihl=None, version=4, bad_csum=False):
    """An IPv4 packet; the lying fields are given explicitly."""
    hl = 20 + len(opts)
    if ihl is None:
        ihl = hl // 4
    if tot_len is None:
        tot_len = hl + len(payload)
    h = struct.pack('!BBHHHBBH4s4s', version << 4 | ihl, tos, tot_len,
                    ident & 0xffff, frag, 64, proto, 0, src, dst) + opts
    c = csum(h) ^ (0x5555 if bad_csum else 0)
    return h[:10] + struct.pack('!H', c) + h[12:] + payload


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, 'setns %s: %s' % (path, os.strerror(err)))
    finally:
        os.close(fd)


def snmp(proto, field):
    with open('/proc/self/net/snmp') as f:
        lines = [l.split() for l in f if l.startswith(proto + ':')]
    return int(lines[1][lines[0].index(field)])


def softnet_dropped():
    with open('/proc/net/softnet_stat') as f:
        return sum(int(l.split()[1], 16) for l in f)


class Campaign:
    def __init__(self, args, rng, send):
        key = bytes.fromhex(args.key.removeprefix('0x'))
        self.aead = AESGCM(key[:16])
        self.salt = key[16:20]
        self.spi = args.spi
        self.out_spi = args.out_spi
        self.window = args.window
        self.rng = rng
        self.send = send
        self.next_seq = 1
        self.top = 0
        self.frames = {}        # committed seq -> the frame that carried it
        self.committed = []     # committed seqs, in order
        self.ident = 0
        self.sa = collections.Counter()
        self.ns = collections.Counter()
        self.cats = collections.Counter()
        self.reached = 0        # past the SA lookup and the length check
        self.inner_malformed = 0
        self.noports = 0
        self.tokens = set()     # what the listener must receive
        self.good_n = 0

    # --- building blocks ---

    def outer(self, esp, **kw):
        self.ident += 1
        return ip4(OUTER_SRC, OUTER_DST, 50, esp, self.ident, **kw)

    def esp(self, seq, plain, spi=None):
        hdr = struct.pack('!II', self.spi if spi is None else spi,
                          seq & 0xffffffff)
        iv = self.rng.randbytes(8)
        return hdr + iv + self.aead.encrypt(self.salt + iv, plain, hdr)

    def fresh(self):
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def commit(self, seq, frame):
        self.frames[seq] = frame
        self.committed.append(seq)
        self.top = max(self.top, seq)

    def inner_udp(self, src=INNER_SRC, dst=INNER_DST, tos=0, token=True):
        """A valid inner packet; with token, one the listener expects."""
        self.good_n += 1
        body = TOKEN % self.good_n + self.rng.randbytes(
            self.rng.randrange(0, 200))
        udp = struct.pack('!HHHH', 4000, LISTEN[1], 8 + len(body), 0) + body
        self.ident += 1
        pkt = ip4(src, dst, 17, udp, self.ident, tos=tos)
        return pkt, (TOKEN % self.good_n if token else None)

    def trailer(self, payload, nh, pad_len=None, extra_blocks=0):
        """payload | pad 1, 2, ... | pad length | next header, 4-aligned."""
        if pad_len is None:
            pad_len = (-(len(payload) + 2)) % 4 + 4 * extra_blocks
        return payload + bytes(range(1, pad_len + 1)) + bytes([pad_len, nh])

    def rand_pad_trailer(self, payload, nh):
        base = (-(len(payload) + 2)) % 4
        return self.trailer(payload, nh, base + 4 * self.rng.randrange(
            0, (255 - base) // 4 + 1))

    def authenticated(self, plain, counter, where='sa', **outer_kw):
        """A fresh, valid-ICV packet that nfsec counts under counter."""
        seq = self.fresh()
        f = self.outer(self.esp(seq, plain), **outer_kw)
        self.send(f)
        self.commit(seq, f)
        self.reached += 1
        if where == 'ns':
            self.inner_malformed += 1
        (self.sa if where == 'sa' else self.ns)[counter] += 1

    def good_packet(self, tos_outer=0, tos_inner=0, pad='rand', trailing=0):
        """A fresh valid packet: its seq, the frame, and the expectations."""
        inner, token = self.inner_udp(tos=tos_inner)
        length = len(inner)
        inner += self.rng.randbytes(trailing)
        plain = self.rand_pad_trailer(inner, 4) if pad == 'rand' else \
            self.trailer(inner, 4)
        seq = self.fresh()
        esp = self.esp(seq, plain)
        return seq, esp, token, length

    def account_good(self, seq, frame, token, length):
        self.commit(seq, frame)
        self.reached += 1
        self.sa['packets'] += 1
        self.sa['bytes'] += length
        self.tokens.add(token)

    # --- the categories: each sends its frames and books what it expects ---

    def c_pad_len_big(self):
        clen = self.rng.choice([4, 8, 12, 16, 64, 128, 252])
        pad_len = self.rng.randrange(clen - 1, 256)
        plain = self.rng.randbytes(clen - 2) + bytes(
            [pad_len, self.rng.choice([4, 59, 17])])
        self.authenticated(plain, 'bad_trailer')

    def c_pad_bytes(self):
        inner, _ = self.inner_udp(token=False)
        nh = self.rng.choice([4, 4, 59])
        plain = bytearray(self.rand_pad_trailer(inner, nh))
        pad_len = plain[-2]
        if pad_len == 0:
            plain = bytearray(self.trailer(inner, nh, extra_blocks=1))
            pad_len = plain[-2]
        if self.rng.random() < 0.2:     # all zero, as some stacks pad
            plain[len(inner):len(inner) + pad_len] = bytes(pad_len)
        else:
            i = len(inner) + self.rng.randrange(pad_len)
            plain[i] ^= self.rng.randrange(1, 256)
        self.authenticated(bytes(plain), 'bad_trailer')

    def c_next_hdr_odd(self):
        inner, _ = self.inner_udp(token=False)
        nh = self.rng.choice([0, 1, 6, 17, 41, 47, 50, 51, 58, 60, 97, 255])
        if nh == 41:    # IPv6 inside, and an IPv4 packet is no IPv6 header
            self.authenticated(self.rand_pad_trailer(inner, nh),
                               'malformed', 'ns')
        else:
            self.authenticated(self.rand_pad_trailer(inner, nh),
                               'bad_trailer')

    def c_dummy(self):
        payload = self.rng.randbytes(self.rng.choice([0, 0, 1, 20, 64, 300]))
        self.authenticated(self.rand_pad_trailer(payload, 59), 'dummy')

    def c_empty(self):
        self.authenticated(self.rand_pad_trailer(b'', 4), 'malformed', 'ns')

    def c_inner_trunc(self):
        inner, _ = self.inner_udp(token=False)
        self.authenticated(self.trailer(inner[:self.rng.randrange(1, 20)], 4),
                           'malformed', 'ns')

    def c_inner_totlen(self):
        inner, _ = self.inner_udp(token=False)
        bad = bytearray(inner)
        struct.pack_into('!H', bad, 2,
                         self.rng.randrange(len(inner) + 1, 65536))
        self.authenticated(self.trailer(bytes(bad), 4), 'malformed', 'ns')

    def c_inner_totlen_lt(self):
        inner, _ = self.inner_udp(token=False)
        bad = bytearray(inner)
        struct.pack_into('!H', bad, 2, self.rng.randrange(0, 20))
        self.authenticated(self.trailer(bytes(bad), 4), 'malformed', 'ns')

    def c_inner_ihl(self):
        inner, _ = self.inner_udp(token=False)
        bad = bytearray(inner)
        bad[0] = 0x40 | self.rng.randrange(0, 5)
        self.authenticated(self.trailer(bytes(bad), 4), 'malformed', 'ns')

    def c_inner_ihl_big(self):
        self.ident += 1
        udp = struct.pack('!HHHH', 4000, 5000, 8, 0)
        tot = self.rng.choice([28, 60])      # below ihl * 4, or beyond it
        inner = ip4(INNER_SRC, INNER_DST, 17, udp, self.ident, ihl=15,
                    tot_len=tot)
        self.authenticated(self.trailer(inner, 4), 'malformed', 'ns')

    def c_inner_version(self):
        inner, _ = self.inner_udp(token=False)
        if self.rng.random() < 0.5:
            v6 = struct.pack('!IHBB16s16s', 6 << 28, 8, 17, 64,
                             b'\xfd' + bytes(15), b'\xfd' + bytes(14) + b'\1')
            bad = v6 + inner[20:28]
        else:
            bad = bytearray(inner)
            bad[0] = self.rng.choice([0, 1, 5, 6, 7, 15]) << 4 | 5
            bad = bytes(bad)
        self.authenticated(self.trailer(bad, 4), 'malformed', 'ns')

    def c_ecn_ce_not_ect(self):
        inner, _ = self.inner_udp(token=False)     # tos 0: Not-ECT
        self.authenticated(self.trailer(inner, 4), 'malformed', 'ns', tos=3)

    def c_inner_policy(self):
        src, dst = self.rng.choice([
            (socket.inet_aton('172.16.9.9'), INNER_DST),
            (socket.inet_aton('192.168.9.1'), INNER_DST),
            (INNER_SRC, socket.inet_aton('192.168.3.3')),
            (INNER_SRC, socket.inet_aton('10.0.0.2'))])
        inner, _ = self.inner_udp(src=src, dst=dst, token=False)
        self.authenticated(self.trailer(inner, 4), 'policy')

    def c_good(self):
        kind = self.rng.choice(['plain', 'plain', 'trailing', 'ecn'])
        tos_o = tos_i = 0
        if kind == 'ecn':               # RFC 6040: CE over ECT(0)
            tos_o, tos_i = 3, 2
        seq, esp, token, length = self.good_packet(
            tos_o, tos_i, trailing=self.rng.randrange(1, 40)
            if kind == 'trailing' else 0)
        f = self.outer(esp, tos=tos_o)
        self.send(f)
        self.account_good(seq, f, token, length)

    def c_frag_good(self):
        seq, esp, token, length = self.good_packet()
        whole = self.outer(esp)
        self.account_good(seq, whole, token, length)
        self.send_frags(esp, self.rng.randrange(2, 5), lone=False)

    def send_frags(self, payload, n, lone):
        self.ident += 1
        ident = self.ident
        cuts = sorted(self.rng.sample(range(1, (len(payload) - 1) // 8 + 1),
                                      min(n - 1, (len(payload) - 1) // 8)))
        offs = [0] + [c * 8 for c in cuts] + [len(payload)]
        frags = []
        for i in range(len(offs) - 1):
            mf = 0x2000 if i < len(offs) - 2 else 0
            frags.append(ip4(OUTER_SRC, OUTER_DST, 50,
                             payload[offs[i]:offs[i + 1]], ident,
                             frag=mf | offs[i] // 8))
        if lone:
            frags = [self.rng.choice(frags)]
        else:
            self.rng.shuffle(frags)
        for f in frags:
            self.send(f)

    def c_frag_lone(self):
        seq, esp, _, _ = self.good_packet()
        self.send_frags(esp, 3, lone=True)

    def c_ip_options(self):
        opts = self.rng.choice([
            b'\x01\x01\x01\x00',                    # NOP NOP NOP EOL
            b'\x94\x04\x00\x00',                    # router alert
            b'\x01' * 39 + b'\x00',                 # the longest header
            b'\x07\x07\x04' + bytes(5),             # record route, 1 slot
        ])
        seq, esp, token, length = self.good_packet()
        f = self.outer(esp, opts=opts)
        self.send(f)
        self.account_good(seq, f, token, length)

    def c_ip_options_bad(self):
        seq, esp, _, _ = self.good_packet()
        self.send(self.outer(esp, opts=b'\x07\x00\x00\x00'))

    def c_outer_bad(self):
        seq, esp, _, _ = self.good_packet()
        if self.rng.random() < 0.5:
            self.send(self.outer(esp, bad_csum=True))
        else:
            self.send(self.outer(esp, tot_len=20 + len(esp) +
                                 self.rng.randrange(1, 100)))

    def c_trunc_hdr(self):
        seq, esp, _, _ = self.good_packet()
        self.send(self.outer(esp[:self.rng.randrange(0, 8)]))
        self.ns['malformed'] += 1

    def c_trunc_len(self):
        seq, esp, _, _ = self.good_packet()
        # ESP header, IV and ICV are 32 bytes: ciphertext = length - 32
        n = self.rng.choice([self.rng.randrange(8, 34),
                             32 + 4 * self.rng.randrange(1, 20) +
                             self.rng.randrange(1, 4)])
        esp = (esp + self.rng.randbytes(max(0, n - len(esp))))[:n]
        self.send(self.outer(esp))
        self.ns['malformed'] += 1

    def c_trunc_aligned(self):
        seq, esp, _, _ = self.good_packet()
        cut = 4 * self.rng.randrange(1, (len(esp) - 34) // 4 + 1)
        self.send(self.outer(esp[:-cut]))
        self.sa['icv_fail'] += 1
        self.reached += 1

    def c_flip(self):
        seq, esp, token, length = self.good_packet()
        bad = bytearray(esp)
        if self.rng.random() < 0.15:
            bad[4] ^= 1 << self.rng.randrange(4, 7)     # seq + 2^28..2^30
        else:
            i = self.rng.randrange(8, len(esp))         # IV, data or ICV
            bad[i] ^= 1 << self.rng.randrange(8)
        self.send(self.outer(bytes(bad)))
        self.sa['icv_fail'] += 1
        self.reached += 1
        if self.rng.random() < 0.3:
            f = self.outer(esp)
            self.send(f)
            self.account_good(seq, f, token, length)

    def c_spi_unknown(self):
        spi = self.rng.choice([0, self.rng.randrange(1, 256),
                               self.rng.randrange(256, 1 << 32),
                               0xffffffff, self.spi ^ 0x80000000])
        if spi in (self.spi, self.out_spi):
            spi = 0
        seq, esp, _, _ = self.good_packet()
        self.send(self.outer(struct.pack('!I', spi) + esp[4:]))
        self.ns['no_sa'] += 1

    def c_spi_out_sa(self):
        seq = self.fresh()
        inner, _ = self.inner_udp(token=False)
        self.send(self.outer(self.esp(seq, self.trailer(inner, 4),
                                      spi=self.out_spi)))
        self.ns['no_sa'] += 1

    def c_seq_zero(self):
        inner, _ = self.inner_udp(token=False)
        self.send(self.outer(self.esp(0, self.trailer(inner, 4))))
        self.sa['replay'] += 1
        self.reached += 1

    def in_window(self, min_age):
        """A committed seq at least min_age behind the top, in the window."""
        for seq in reversed(self.committed[-self.window:]):
            if min_age <= self.top - seq < self.window:
                return seq
        return None

    def c_dup(self):
        seq = self.in_window(self.rng.choice([0, 8, 32]))
        if seq is None:
            return self.c_good()
        self.send(self.frames[seq])
        self.sa['replay'] += 1
        self.reached += 1

    def c_dup_garbage(self):
        # 16 behind: committed long before, even were crypto asynchronous
        seq = self.in_window(16)
        if seq is None:
            return self.c_good()
        esp = struct.pack('!II', self.spi, seq) + self.rng.randbytes(
            8 + 4 * self.rng.randrange(1, 40) + 16)
        self.send(self.outer(esp))
        self.sa['replay'] += 1
        self.reached += 1

    def old_seqs(self):
        return self.top - self.window

    def c_old(self):
        limit = self.old_seqs()
        if limit < 1 or self.committed[0] > limit:
            return self.c_good()
        i = self.rng.randrange(0, len(self.committed))
        while self.committed[i] > limit:
            i //= 2
        self.send(self.frames[self.committed[i]])
        self.sa['replay_old'] += 1
        self.reached += 1

    def c_old_fresh(self):
        limit = self.old_seqs()
        if limit < 1:
            return self.c_good()
        seq = self.rng.randrange(1, limit + 1)
        inner, _ = self.inner_udp(token=False)
        self.send(self.outer(self.esp(seq, self.trailer(inner, 4))))
        self.sa['replay_old'] += 1
        self.reached += 1

    def c_udp_4500(self):
        kind = self.rng.randrange(4)
        if kind == 0:           # real ESP for the SA, encapsulated
            seq, payload, _, _ = self.good_packet()
        elif kind == 1:         # non-ESP marker (RFC 3948 2.2): IKE
            payload = bytes(4) + self.rng.randbytes(self.rng.randrange(0, 80))
        elif kind == 2:         # NAT keepalive (RFC 3948 2.3)
            payload = b'\xff'
        else:
            payload = self.rng.randbytes(self.rng.randrange(0, 200))
        udp = struct.pack('!HHHH', 4500, 4500, 8 + len(payload), 0) + payload
        self.ident += 1
        self.send(ip4(OUTER_SRC, OUTER_DST, 17, udp, self.ident))
        self.noports += 1

    def c_cleartext(self):
        inner, _ = self.inner_udp(token=False)
        self.send(inner)
        self.ns['cleartext'] += 1

    def final(self, n):
        """n good packets after everything: (seq, frame, token) each."""
        out = []
        for _ in range(n):
            seq, esp, token, length = self.good_packet(pad='min')
            f = self.outer(esp)
            self.account_good(seq, f, token, length)
            out.append((f, token))
        return out


def nonzero(counter):
    return ' '.join('%s=%d' % (k, v) for k, v in sorted(counter.items()) if v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sender-ns', required=True)
    ap.add_argument('--iface', required=True)
    ap.add_argument('--dst-iface', required=True)
    ap.add_argument('--key', required=True)
    ap.add_argument('--spi', type=lambda s: int(s, 0), default=0x2001)
    ap.add_argument('--out-spi', type=lambda s: int(s, 0), default=0x2003)
    ap.add_argument('--window', type=int, default=128)
    ap.add_argument('--count', type=int, default=10000)
    ap.add_argument('--seed', type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else \
        int.from_bytes(os.urandom(4), 'big')
    print('seed %d' % seed)
    sys.stdout.flush()
    rng = random.Random(seed)

    # the listener here, in the receiver's namespace
    lsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lsock.setsockopt(SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    lsock.bind(LISTEN)
    lsock.setblocking(False)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((args.dst_iface, 0))
        dst_mac = s.getsockname()[4]
    noports0 = snmp('Udp', 'NoPorts')
    dropped0 = softnet_dropped()

    # the sender's socket, in the sender's namespace
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    setns(args.sender_ns)
    psock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    psock.bind((args.iface, 0))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(home, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns back')
    os.close(home)
    src_mac = psock.getsockname()[4]
    eth = dst_mac + src_mac + b'\x08\x00'

    got = set()

    def drain():
        while True:
            try:
                data = lsock.recv(2048)
            except BlockingIOError:
                return
            got.add(data[:len(TOKEN % 0)])

    sent = [0]

    def send(ip):
        psock.send(eth + ip)
        sent[0] += 1
        if sent[0] % 256 == 0:
            drain()

    c = Campaign(args, rng, send)
    groups = [sorted(n for n in WEIGHTS if n in INSIDE),
              sorted(n for n in WEIGHTS if n not in INSIDE)]
    weights = [[WEIGHTS[n] for n in g] for g in groups]
    inside = 0
    t0 = time.monotonic()
    # half the frames authenticated and malformed inside: that group
    # whenever it is behind, the other one otherwise
    while sent[0] < args.count or inside * 2 < sent[0]:
        g = 0 if inside * 2 < sent[0] + 1 else 1
        name = rng.choices(groups[g], weights[g])[0]
        before = sent[0]
        getattr(c, 'c_' + name)()
        c.cats[name] += sent[0] - before
        if g == 0:
            inside += sent[0] - before

    # the SA still carries traffic: 5 good packets, each delivered
    final = c.final(5)
    for f, _ in final:
        send(f)
    c.cats['final'] += len(final)
    deadline = time.monotonic() + 10
    while not c.tokens <= got and time.monotonic() < deadline:
        drain()
        time.sleep(0.05)
    drain()
    t1 = time.monotonic()

    print('sent %d in %.1f s' % (sent[0], t1 - t0))
    print('cats %s' % nonzero(c.cats))
    print('inside %d' % sum(v for k, v in c.cats.items() if k in INSIDE))
    print('top %d' % c.top)
    print('expect_sa %s' % nonzero(c.sa))
    print('expect_ns %s' % nonzero(c.ns))
    print('reached %d' % c.reached)
    print('sa_counted %d' % (c.reached - c.inner_malformed))
    print('delivered %d of %d' % (len(got & c.tokens), len(c.tokens)))
    print('unexpected %d' % len(got - c.tokens))
    print('final %d of %d' % (sum(1 for _, t in final if t in got),
                              len(final)))
    print('noports %d of %d' % (snmp('Udp', 'NoPorts') - noports0,
                                c.noports))
    print('softnet_dropped %d' % (softnet_dropped() - dropped0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
