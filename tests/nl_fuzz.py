#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""nl_fuzz.py: random generic netlink requests to the nfsec family.

Standard library only; the family, the attribute encoder and the uapi
constants come from tests/nl_raw.py. Every request is drawn from one
random.Random(SEED), never from what the kernel answered, so a seed
replays a run request for request.

A request is one of:
  - a command (known ones, SA_EXPIRE which has no handler, unknown ones)
    whose attribute tree starts from a valid SA, policy or SA identity
    built from small pools of SPIs, addresses and algorithms (so that adds,
    gets, updates and deletes meet each other) and then takes 0-5
    mutations: an attribute dropped, duplicated, given random bytes or a
    boundary value, an unknown type, the nested flag flipped, a nest where
    a scalar belongs;
  - a dump (SA_GET, POLICY_GET, and NLM_F_DUMP on commands without one);
  - a message whose bytes lie: nlmsg_len shorter or longer than what was
    sent, truncated inside the netlink or genetlink header, an attribute
    length below 4 or beyond its nest, trailing garbage, a random
    genetlink version or reserved field, random flags, no NLM_F_REQUEST;
  - two messages in one send.
After each send, what the kernel queued is read without blocking until
nothing is left (a dump makes its next part inside each recv()).

Usage: nl_fuzz.py --seed N --count N [--model eperm] [--check]

  --model eperm   the caller lacks CAP_NET_ADMIN: predict the answer to
                  every message as Linux 6.1's netlink_rcv_skb() and
                  genl_family_rcv_msg() would, and count mismatches:
                  EPERM for every nfsec command (even with NLM_F_DUMP on
                  a command without a dump: the permission check comes
                  first); before that check EINVAL for a short genetlink
                  header and, from resv_start_op on, for a reserved field
                  or nlmsg_flags beyond REQUEST, ACK, ECHO and DUMP
                  (genl_header_check()), EOPNOTSUPP for an unknown
                  command; an ack of 0 only for a message without
                  NLM_F_REQUEST that asked for one; no answer after a
                  lying nlmsg_len
  --check         at the end, as the caller may: SA and policy dumps
                  agree with STATS_GET's counts

Output, one "KEY VALUE" line each: seed, requests, sends, time,
answers (errno name=count ..., OK for 0, send:ERRNO when send()
itself failed, as it does for a message cut to nothing), accepted (nfsec
commands acked with 0, per command), other_acked (messages of another
type, headers read out of attribute bytes, acked with 0), dump_msgs,
enobufs, mismatches, unmodelled (sends the model left out), and with
--check
consistent ("sa DUMPED/COUNT policy DUMPED/COUNT"); then up to 10
"mismatch ..." lines.
"""

import argparse
import collections
import errno
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nl_raw  # noqa: E402 (the family, the encoder, the uapi constants)
from nl_raw import A, k, NLMSG_HDR, GENL_HDR, NLA_HDR  # noqa: E402

NLM_F_REQUEST = nl_raw.NLM_F_REQUEST
NLM_F_ACK = nl_raw.NLM_F_ACK
NLM_F_ECHO = 0x08
NLM_F_DUMP = 0x300
NLMSG_ERROR = nl_raw.NLMSG_ERROR
NLMSG_DONE = nl_raw.NLMSG_DONE

CMDS = {name: k('NFSEC_CMD_' + name) for name in (
    'SA_ADD', 'SA_UPDATE', 'SA_DEL', 'SA_GET', 'SA_FLUSH', 'SA_EXPIRE',
    'POLICY_ADD', 'POLICY_DEL', 'POLICY_GET', 'POLICY_FLUSH', 'STATS_GET',
    'POLICY_UPDATE', 'ACQUIRE', 'SA_ALLOC_SPI')}
CMD_NAME = {v: n for n, v in CMDS.items()}
# the handlers src/netlink.c has (the uapi header's list): do, dump
OPS = {
    CMDS['SA_ADD']: 'do', CMDS['SA_UPDATE']: 'do', CMDS['SA_DEL']: 'do',
    CMDS['SA_GET']: 'do dump', CMDS['SA_FLUSH']: 'do',
    CMDS['POLICY_ADD']: 'do', CMDS['POLICY_DEL']: 'do',
    CMDS['POLICY_GET']: 'dump', CMDS['POLICY_FLUSH']: 'do',
    CMDS['STATS_GET']: 'do', CMDS['POLICY_UPDATE']: 'do',
    CMDS['SA_ALLOC_SPI']: 'do',
}

SPIS = [256, 257, 258, 259, 260, 0x1000, 0xffffffff]
V4 = ['10.0.0.1', '10.0.0.2', '10.9.0.1', '192.168.1.0', '0.0.0.0',
      '255.255.255.255']
V6 = ['fd00::1', 'fd00::2', '::', 'ff02::1']
# (name, kind, key lengths, icv or truncation bits)
ALGS = [
    ('rfc4106(gcm(aes))', 'aead', (20, 28, 36), (128, 96, 64)),
    ('rfc4543(gcm(aes))', 'aead', (20, 28, 36), (128,)),
    ('rfc7539esp(chacha20,poly1305)', 'aead', (36,), (128,)),
    ('cbc(aes)', 'enc', (16, 24, 32), ()),
    ('rfc3686(ctr(aes))', 'enc', (20, 28, 36), ()),
    ('ecb(cipher_null)', 'enc', (0,), ()),
    ('hmac(sha1)', 'auth', (20,), (96, 160)),
    ('hmac(sha256)', 'auth', (32,), (128, 256)),
    ('hmac(sha384)', 'auth', (48,), (192,)),
    ('hmac(sha512)', 'auth', (64,), (256,)),
]
# names refused by nfsec's own table, before the crypto API sees them
BAD_NAMES = [b'', b'gcm(aes)', b'aes', b'hmac(md5)', b'cbc(aes)x',
             b'rfc4106(gcm(aes))', b'A' * 63, b'A' * 64, b'A' * 200,
             b'authenc(hmac(sha1),cbc(aes))']

U32_EDGE = [0, 1, 2, 3, 63, 64, 96, 128, 255, 256, 4095, 4096, 4097,
            0x7fffffff, 0x80000000, 0xffffffff]
U64_EDGE = [0, 1, 0xffffffff, 0x100000000, 0xfffffffffffffffe,
            0xffffffffffffffff]


class Gen:
    """Draws requests from one random.Random."""

    def __init__(self, rng, fid):
        self.r = rng
        self.fid = fid

    def chance(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    def junk(self, n=None):
        return self.r.randbytes(self.r.randrange(0, 40) if n is None else n)

    # --- values ---

    def addr(self, fam):
        if fam == socket.AF_INET6:
            return socket.inet_pton(socket.AF_INET6, self.pick(V6))
        return socket.inet_aton(self.pick(V4))

    def alg(self, kind):
        name, _, lens, bits = self.pick([a for a in ALGS if a[1] == kind])
        nest = [A(k('NFSEC_ALG_A_NAME'), name.encode() + b'\0'),
                A(k('NFSEC_ALG_A_KEY'), self.r.randbytes(self.pick(lens)))]
        if bits and self.chance(0.5):
            attr = 'NFSEC_ALG_A_ICV_BITS' if kind == 'aead' else \
                'NFSEC_ALG_A_TRUNC_BITS'
            nest.append(A(k(attr), nl_raw.u32(self.pick(bits))))
        return nest

    def sa(self):
        fam = socket.AF_INET6 if self.chance(0.15) else socket.AF_INET
        d = self.r.choice(['NFSEC_DIR_IN', 'NFSEC_DIR_OUT'])
        attrs = [
            A(k('NFSEC_SA_A_DIR'), nl_raw.u8(k(d))),
            A(k('NFSEC_SA_A_FAMILY'), nl_raw.u16(fam)),
            A(k('NFSEC_SA_A_SRC'), self.addr(fam)),
            A(k('NFSEC_SA_A_DST'), self.addr(fam)),
            A(k('NFSEC_SA_A_SPI'), nl_raw.be32(self.pick(SPIS))),
        ]
        if self.chance(0.1):
            attrs += [A(k('NFSEC_SA_A_PROTO'), nl_raw.u8(51)),
                      A(k('NFSEC_SA_A_AUTH'), self.alg('auth'))]
        else:
            attrs.append(A(k('NFSEC_SA_A_PROTO'), nl_raw.u8(50)))
            if self.chance(0.6):
                attrs.append(A(k('NFSEC_SA_A_AEAD'), self.alg('aead')))
            else:
                if self.chance(0.8):
                    attrs.append(A(k('NFSEC_SA_A_ENC'), self.alg('enc')))
                attrs.append(A(k('NFSEC_SA_A_AUTH'), self.alg('auth')))
        attrs.append(A(k('NFSEC_SA_A_MODE'), nl_raw.u8(self.pick([1, 2]))))
        if self.chance(0.3):
            attrs.append(A(k('NFSEC_SA_A_REPLAY_WINDOW'),
                           nl_raw.u32(self.pick([0, 32, 64, 4096, 4097]))))
        if self.chance(0.2):
            attrs.append(A(k('NFSEC_SA_A_FLAGS'),
                           nl_raw.u32(self.pick([0, 1, 2, 0xffffffff]))))
        if self.chance(0.2):
            attrs.append(A(k('NFSEC_SA_A_SEQ'),
                           nl_raw.u64(self.pick(U64_EDGE))))
        if self.chance(0.2):
            attrs.append(A(k('NFSEC_SA_A_LIFETIME'), [
                A(self.pick([1, 2, 3, 4, 5, 6,
                             k('NFSEC_LT_A_SOFT_USE_SECONDS'),
                             k('NFSEC_LT_A_HARD_USE_SECONDS')]),
                  nl_raw.u64(self.pick(U64_EDGE)))
                for _ in range(self.r.randrange(0, 4))]))
        if self.chance(0.1):
            attrs.append(A(k('NFSEC_SA_A_DF'), nl_raw.u8(self.pick([0, 1, 2,
                                                                    3]))))
        if self.chance(0.3):
            attrs.append(A(k('NFSEC_SA_A_REQID'),
                           nl_raw.u32(self.pick([0, 1, 2, 0xffffffff]))))
        if self.chance(0.25):   # ESP in UDP, often valid, sometimes not
            encap = [A(k('NFSEC_ENCAP_A_TYPE'), nl_raw.u8(self.pick([1, 1,
                                                                      0, 2])))]
            for name in ('NFSEC_ENCAP_A_SPORT', 'NFSEC_ENCAP_A_DPORT'):
                if self.chance(0.7):
                    encap.append(A(k(name), nl_raw.u16(self.pick(
                        [4500, 4500, 500, 0, 65535]))))
            if self.chance(0.3):
                encap.append(A(k('NFSEC_ENCAP_A_FLAGS'),
                               nl_raw.u32(self.pick([0, 1, 2, 0xffffffff]))))
            if self.chance(0.3):
                encap.append(A(k('NFSEC_ENCAP_A_KEEPALIVE'),
                               nl_raw.u32(self.pick([0, 1, 20, 3600, 3601]))))
            attrs.append(A(k('NFSEC_SA_A_ENCAP'), encap))
        return attrs, 'NFSEC_SA_A_MAX'

    def sa_id(self):
        fam = socket.AF_INET6 if self.chance(0.15) else socket.AF_INET
        return [A(k('NFSEC_SA_A_FAMILY'), nl_raw.u16(fam)),
                A(k('NFSEC_SA_A_DST'), self.addr(fam)),
                A(k('NFSEC_SA_A_SPI'), nl_raw.be32(self.pick(SPIS))),
                A(k('NFSEC_SA_A_PROTO'), nl_raw.u8(self.pick([50, 50, 51]))),
                ], 'NFSEC_SA_A_MAX'

    def alloc(self):
        """An SA_ALLOC_SPI nest: the identity but the SPI, a range (often
        narrow, so that it fills), a timeout."""
        fam = socket.AF_INET6 if self.chance(0.15) else socket.AF_INET
        attrs = [A(k('NFSEC_SA_A_FAMILY'), nl_raw.u16(fam)),
                 A(k('NFSEC_SA_A_SRC'), self.addr(fam)),
                 A(k('NFSEC_SA_A_DST'), self.addr(fam)),
                 A(k('NFSEC_SA_A_PROTO'), nl_raw.u8(self.pick([50, 50, 51])))]
        if self.chance(0.6):
            attrs.append(A(k('NFSEC_SA_A_SPI_MIN'),
                           nl_raw.u32(self.pick([0, 255, 256, 258, 0x1000]))))
        if self.chance(0.6):
            attrs.append(A(k('NFSEC_SA_A_SPI_MAX'),
                           nl_raw.u32(self.pick([256, 260, 0xffffffff]))))
        if self.chance(0.5):
            attrs.append(A(k('NFSEC_SA_A_TIMEOUT'),
                           nl_raw.u32(self.pick([0, 1, 2, 3600, 3601]))))
        return attrs, 'NFSEC_SA_A_MAX'

    def policy(self):
        fam = socket.AF_INET6 if self.chance(0.15) else socket.AF_INET
        full = 128 if fam == socket.AF_INET6 else 32
        action = self.pick([1, 1, 2, 3])
        attrs = [
            A(k('NFSEC_POL_A_DIR'), nl_raw.u8(self.pick([1, 2, 3]))),
            A(k('NFSEC_POL_A_FAMILY'), nl_raw.u16(fam)),
            A(k('NFSEC_POL_A_SRC'), self.addr(fam)),
            A(k('NFSEC_POL_A_SRC_PLEN'), nl_raw.u8(self.pick([0, 24, full]))),
            A(k('NFSEC_POL_A_DST'), self.addr(fam)),
            A(k('NFSEC_POL_A_DST_PLEN'), nl_raw.u8(self.pick([0, 24, full]))),
            A(k('NFSEC_POL_A_ACTION'), nl_raw.u8(action)),
        ]
        if self.chance(0.4):
            attrs.append(A(k('NFSEC_POL_A_PROTO'),
                           nl_raw.u8(self.pick([0, 6, 17, 50, 132]))))
            attrs.append(A(k('NFSEC_POL_A_DPORT'),
                           nl_raw.u16(self.pick([0, 53, 4500]))))
        if self.chance(0.5):
            attrs.append(A(k('NFSEC_POL_A_PRIORITY'),
                           nl_raw.u32(self.pick(U32_EDGE))))
        by_reqid = self.chance(0.3)
        if (action == 1 and not by_reqid) or self.chance(0.1):
            attrs.append(A(k('NFSEC_POL_A_SA_SPI'),
                           nl_raw.be32(self.pick(SPIS))))
        if (action == 1 and by_reqid) or self.chance(0.1):
            attrs.append(A(k('NFSEC_POL_A_SA_REQID'),
                           nl_raw.u32(self.pick([0, 1, 2, 0xffffffff]))))
            if self.chance(0.3):
                attrs.append(A(k('NFSEC_POL_A_SA_MODE'),
                               nl_raw.u8(self.pick([0, 1, 2, 3]))))
            if self.chance(0.3):
                attrs.append(A(k('NFSEC_POL_A_SA_SRC'), self.addr(fam)))
        if action == 1 and self.chance(0.5):
            attrs.append(A(k('NFSEC_POL_A_SA_DST'), self.addr(fam)))
        if self.chance(0.2):
            attrs.append(A(k('NFSEC_POL_A_INDEX'),
                           nl_raw.u32(self.r.randrange(0, 40))))
        return attrs, 'NFSEC_POL_A_MAX'

    # --- mutations of an attribute list ---

    def scalar(self):
        return self.pick([
            b'', b'\0', nl_raw.u16(self.r.randrange(1 << 16)),
            nl_raw.u32(self.pick(U32_EDGE)), nl_raw.u64(self.pick(U64_EDGE)),
            self.pick(BAD_NAMES), self.junk(), self.r.randbytes(
                self.r.choice([3, 5, 15, 17, 129, 300]))])

    def mutate(self, attrs, maxname, depth=0):
        amax = k(maxname)
        for _ in range(self.pick([0, 0, 1, 1, 1, 2, 3, 5])):
            op = self.r.randrange(8)
            if op == 0 and attrs:
                attrs.pop(self.r.randrange(len(attrs)))
            elif op == 1 and attrs:
                attrs.append(self.pick(attrs))
            elif op == 2 and attrs:
                a = self.pick(attrs)
                if isinstance(a.value, list) and depth < 2 and a.value:
                    self.mutate(a.value, 'NFSEC_ALG_A_MAX', depth + 1)
                else:
                    a.value, a.flags = self.scalar(), 0
            elif op == 3:
                attrs.append(A(self.pick([0, amax + 1, amax + 2, 0x3fff,
                                          self.r.randrange(1, amax + 1)]),
                               self.scalar()))
            elif op == 4 and attrs:
                a = self.pick(attrs)
                a.flags ^= nl_raw.NLA_F_NESTED
            elif op == 5 and attrs:
                a = self.pick(attrs)
                a.flags |= nl_raw.NLA_F_NET_BYTEORDER
            elif op == 6 and attrs:     # a nest where a scalar belongs
                a = self.pick(attrs)
                a.value = [A(self.r.randrange(0, 6), self.scalar())]
                a.flags = nl_raw.NLA_F_NESTED if self.chance(0.7) else 0
            elif op == 7:
                self.r.shuffle(attrs)
        return attrs

    # --- whole requests ---

    def top(self, cmd):
        """The top-level attributes for cmd (or for a random command)."""
        name = CMD_NAME.get(cmd, '')
        attrs = []
        if name in ('SA_ADD', 'SA_UPDATE') or (not name and self.chance(0.3)):
            inner, m = self.sa()
            attrs.append(A(k('NFSEC_A_SA'), self.mutate(inner, m)))
        elif name in ('SA_DEL', 'SA_GET'):
            inner, m = self.sa_id()
            attrs.append(A(k('NFSEC_A_SA'), self.mutate(inner, m)))
        elif name == 'SA_ALLOC_SPI':
            inner, m = self.alloc()
            attrs.append(A(k('NFSEC_A_SA'), self.mutate(inner, m)))
        elif name in ('POLICY_ADD', 'POLICY_UPDATE', 'POLICY_DEL') or \
                (not name and self.chance(0.3)):
            inner, m = self.policy()
            if name == 'POLICY_DEL' and self.chance(0.5):
                inner = [A(k('NFSEC_POL_A_INDEX'),
                           nl_raw.u32(self.r.randrange(0, 40)))]
            attrs.append(A(k('NFSEC_A_POLICY'), self.mutate(inner, m)))
        if self.chance(0.2):
            attrs.append(A(k('NFSEC_A_FLAGS'), nl_raw.u32(
                self.pick([0, 1, 2, 0xffffffff]))))
        if self.chance(0.05):
            attrs.append(A(k('NFSEC_A_STATS'), [A(1, nl_raw.u32(0))]))
        if self.chance(0.05):       # an acquire event's flow, events only
            attrs.append(A(k('NFSEC_A_FLOW'), [
                A(k('NFSEC_FLOW_A_FAMILY'), nl_raw.u16(socket.AF_INET)),
                A(k('NFSEC_FLOW_A_PROTO'), nl_raw.u8(6))]))
        return self.mutate(attrs, 'NFSEC_A_MAX')

    def command(self):
        r = self.r.random()
        if r < 0.90:
            return self.pick([
                CMDS['SA_ADD']] * 6 + [CMDS['SA_UPDATE']] * 2 +
                [CMDS['SA_DEL']] * 3 + [CMDS['SA_GET']] * 3 +
                [CMDS['POLICY_ADD']] * 5 + [CMDS['POLICY_UPDATE']] * 2 +
                [CMDS['POLICY_DEL']] * 3 +
                [CMDS['POLICY_GET']] * 2 + [CMDS['STATS_GET']] * 2 +
                [CMDS['SA_ALLOC_SPI']] * 2 +
                [CMDS['SA_EXPIRE'], CMDS['ACQUIRE']])
        if r < 0.92:
            return self.pick([CMDS['SA_FLUSH'], CMDS['POLICY_FLUSH']])
        return self.pick([0, k('NFSEC_CMD_MAX') + 1, k('NFSEC_CMD_MAX') + 2,
                          64, 127, 128, 255])

    def message(self, seq):
        cmd = self.command()
        flags = NLM_F_REQUEST | (NLM_F_ACK if self.chance(0.8) else 0)
        if self.chance(0.15) or (cmd in (CMDS['POLICY_GET'], CMDS['SA_GET'])
                                 and self.chance(0.6)):
            flags |= NLM_F_DUMP
        if self.chance(0.03):
            flags ^= NLM_F_REQUEST
        if self.chance(0.03):
            flags |= self.r.randrange(1 << 16)
        version = self.pick([1] * 20 + [0, 2, 255])
        reserved = 0 if self.chance(0.95) else self.r.randrange(1, 1 << 16)
        body = GENL_HDR.pack(cmd, version, reserved) + \
            b''.join(a.encode() for a in self.top(cmd))
        msg = bytearray(NLMSG_HDR.pack(NLMSG_HDR.size + len(body), self.fid,
                                       flags, seq, 0) + body)
        r = self.r.random()
        if r < 0.04:                    # nlmsg_len lies
            struct.pack_into('=I', msg, 0, self.pick([
                0, 1, 15, 16, 17, 19, 20, len(msg) - 1, len(msg) + 1,
                len(msg) + 4, self.r.randrange(0, 1 << 32)]))
        elif r < 0.07:                  # cut anywhere, length kept or fixed
            msg = msg[:self.r.randrange(0, len(msg) + 1)]
            if len(msg) >= 4 and self.chance(0.5):
                struct.pack_into('=I', msg, 0, len(msg))
        elif r < 0.11 and len(msg) >= 24:   # an attribute length lies
            off = self.attr_offset(msg)
            if off is not None:
                struct.pack_into('=H', msg, off, self.pick([
                    0, 1, 3, 4, 5, 0xffff, len(msg) - off + 4,
                    self.r.randrange(1 << 16)]))
        elif r < 0.13:                  # trailing garbage
            msg += self.junk()
            if self.chance(0.5):
                struct.pack_into('=I', msg, 0, len(msg))
        return bytes(msg)

    def attr_offset(self, msg):
        """The offset of a random attribute header inside msg, walking
        the nests that are still well-formed."""
        offs = []

        def walk(start, end, depth):
            off = start
            while off + 4 <= end:
                alen, atype = struct.unpack_from('=HH', msg, off)
                if alen < 4 or off + alen > end:
                    return
                offs.append(off)
                if atype & nl_raw.NLA_F_NESTED and depth < 3:
                    walk(off + 4, off + alen, depth + 1)
                off += (alen + 3) & ~3
        walk(20, len(msg), 0)
        return self.pick(offs) if offs else None

    def send_unit(self, seq):
        """The bytes of one send and the seqs they use."""
        if self.chance(0.05):
            a, b = self.message(seq), self.message(seq + 1)
            pad = b'\0' * (-len(a) % 4) if self.chance(0.8) else b''
            return a + pad + b, 2
        return self.message(seq), 1


def model_eperm(buf, fid):
    """[(seq, allowed errnos)] for the messages of buf, as
    netlink_rcv_skb() and genl_family_rcv_msg() treat a caller without
    CAP_NET_ADMIN; a message that gets no answer is not listed. None
    instead when a lying nlmsg_len makes the kernel read a header out of
    attribute bytes whose type is not nfsec's (another family's answer is
    not modelled)."""
    out = []
    off = 0
    while len(buf) - off >= NLMSG_HDR.size:
        mlen, mtype, flags, seq, _ = NLMSG_HDR.unpack_from(buf, off)
        if mlen < NLMSG_HDR.size or len(buf) - off < mlen:
            break
        if mtype != fid:
            return None
        if not flags & NLM_F_REQUEST:
            if flags & NLM_F_ACK:
                out.append((seq, {0}))
        elif mlen < NLMSG_HDR.size + GENL_HDR.size:
            out.append((seq, {errno.EINVAL}))
        else:
            cmd, _, reserved = GENL_HDR.unpack_from(buf, off + NLMSG_HDR.size)
            # genl_header_check(), for commands from resv_start_op (1) on:
            # the reserved field, and no flag but REQUEST, ACK, ECHO and
            # both DUMP bits
            rest = flags & ~NLM_F_DUMP if flags & NLM_F_DUMP == NLM_F_DUMP \
                else flags
            if cmd >= 1 and (reserved or rest & ~(NLM_F_REQUEST | NLM_F_ACK |
                                                  NLM_F_ECHO)):
                allowed = {errno.EINVAL}
            elif cmd not in OPS:
                allowed = {errno.EOPNOTSUPP}
            else:   # the permission check comes before the handler's kind
                allowed = {errno.EPERM}
            out.append((seq, allowed))
        off += min((mlen + 3) & ~3, len(buf) - off)
    return out


class Fuzz:
    def __init__(self, fid):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                  nl_raw.NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.sock.setsockopt(nl_raw.SOL_NETLINK, nl_raw.NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(nl_raw.SOL_NETLINK, nl_raw.NETLINK_CAP_ACK, 1)
        self.buf = bytearray(1 << 17)
        self.fid = fid
        self.answers = collections.Counter()
        self.accepted = collections.Counter()
        self.other_acked = 0
        self.dump_msgs = 0
        self.enobufs = 0

    def exchange(self, data):
        """Send data, read all that comes back: {seq: errno}."""
        got = {}
        try:
            self.sock.send(data)
        except OSError as e:
            got[None] = e.errno
            return got
        view = memoryview(self.buf)
        while True:
            try:
                n = self.sock.recv_into(self.buf, 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return got
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                self.enobufs += 1
                continue
            off = 0
            while off + NLMSG_HDR.size <= n:
                mlen, mtype, _, seq, _ = NLMSG_HDR.unpack_from(view, off)
                if mlen < NLMSG_HDR.size or off + mlen > n:
                    break
                if mtype == NLMSG_ERROR:
                    got[seq] = -struct.unpack_from('=i', view, off + 16)[0]
                elif mtype == NLMSG_DONE:
                    got[seq] = 0
                else:
                    self.dump_msgs += 1
                    got.setdefault(seq, 0)
                off += (mlen + 3) & ~3

    def dump_count(self, cmd):
        seq = 0x7fff0000 + cmd
        msg = NLMSG_HDR.pack(20, self.fid, NLM_F_REQUEST | NLM_F_DUMP, seq,
                             0) + GENL_HDR.pack(cmd, 1, 0)
        before = self.dump_msgs
        got = self.exchange(msg)
        return self.dump_msgs - before if got.get(seq) == 0 else \
            '<%r>' % got.get(seq)

    def stats_counts(self):
        conn = nl_raw.Conn()
        reply = conn.request(self.fid, CMDS['STATS_GET'], [])
        for _, payload in reply.messages:
            for atype, val in nl_raw.parse_attrs(payload[GENL_HDR.size:]):
                if atype == k('NFSEC_A_STATS'):
                    d = dict(nl_raw.parse_attrs(val))
                    return (struct.unpack('=I', d[k('NFSEC_STATS_A_SA_COUNT')])[0],
                            struct.unpack('=I', d[k('NFSEC_STATS_A_POLICY_COUNT')])[0])
        return ('<%s>' % reply.describe(),) * 2


def errname(e):
    if e == 0:
        return 'OK'
    if e == errno.EOPNOTSUPP:
        return 'EOPNOTSUPP'     # not ENOTSUP, the same number on Linux
    return errno.errorcode.get(e, str(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--model', choices=['eperm'])
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()
    print('seed %d' % args.seed)
    sys.stdout.flush()

    conn = nl_raw.Conn()
    fid = conn.family('nfsec')
    if fid is None:
        print('error family nfsec not found')
        return 2
    gen = Gen(random.Random(args.seed), fid)
    fz = Fuzz(fid)
    mismatches = []
    unmodelled = 0
    seq = 1
    requests = sends = 0
    t0 = time.monotonic()
    while requests < args.count:
        data, n = gen.send_unit(seq)
        got = fz.exchange(data)
        sends += 1
        for s, e in got.items():    # (None: send() itself failed)
            fz.answers[('send:' if s is None else '') + errname(e)] += 1
        want = model_eperm(data, fid) if args.model else None
        if args.model and want is None:
            unmodelled += 1
        elif args.model:
            wanted = {s for s, _ in want}
            for s, allowed in want:
                if got.get(s) not in allowed:
                    mismatches.append('request %d (send %d): seq %d: want %s, '
                                      'got %s; sent %s' % (
                                          requests, sends, s,
                                          '|'.join(sorted(map(errname,
                                                              allowed))),
                                          'nothing' if s not in got else
                                          errname(got[s]), data.hex()))
            for s in set(got) - wanted:
                if s is None and len(data) < NLMSG_HDR.size:
                    continue    # nothing to send: netlink_sendmsg refuses
                mismatches.append('request %d (send %d): unexpected answer '
                                  'seq %s %s; sent %s' % (
                                      requests, sends, s, errname(got[s]),
                                      data.hex()))
        # what the kernel acked with 0, per nfsec command (a dump: its
        # DONE). A header read out of attribute bytes may carry another
        # type: netlink acks a control type (below NLMSG_MIN_TYPE) with 0,
        # and another family may accept it; those are not nfsec's commands.
        off = 0
        while off + 20 <= len(data):
            mlen, mtype, flags, s, _ = NLMSG_HDR.unpack_from(data, off)
            if mlen < 16:
                break
            if got.get(s) == 0 and flags & NLM_F_REQUEST:
                if mtype == fid:
                    fz.accepted[CMD_NAME.get(data[off + 16],
                                             str(data[off + 16]))] += 1
                else:
                    fz.other_acked += 1
            off += (mlen + 3) & ~3
        seq += n
        requests += n
    t1 = time.monotonic()

    print('requests %d' % requests)
    print('sends %d' % sends)
    print('time %.1f' % (t1 - t0))
    print('answers %s' % ' '.join('%s=%d' % kv for kv in
                                  sorted(fz.answers.items())))
    print('accepted %s' % (' '.join('%s=%d' % kv for kv in
                                    sorted(fz.accepted.items())) or '-'))
    print('other_acked %d' % fz.other_acked)
    print('dump_msgs %d' % fz.dump_msgs)
    print('enobufs %d' % fz.enobufs)
    print('mismatches %d' % len(mismatches))
    print('unmodelled %d' % unmodelled)
    if args.check:
        # larval entries (SA_ALLOC_SPI) expire on their own: count again
        # until nothing changed between the counts and the dumps
        for _ in range(5):
            before = fz.stats_counts()
            dumped = (fz.dump_count(CMDS['SA_GET']),
                      fz.dump_count(CMDS['POLICY_GET']))
            sas, pols = fz.stats_counts()
            if before == (sas, pols):
                break
        print('consistent sa %s/%s policy %s/%s' % (
            dumped[0], sas, dumped[1], pols))
    for m in mismatches[:10]:
        print('mismatch %s' % m)
    return 0


if __name__ == '__main__':
    sys.exit(main())
