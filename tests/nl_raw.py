#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""nl_raw.py: a raw generic netlink client for nfsec's malformed-request tests.

Standard library only. It resolves the "nfsec" family with
CTRL_CMD_GETFAMILY, asks for extended acks (NETLINK_EXT_ACK) and sends
requests built attribute by attribute, so that it can send what the nfsec
tool never would: wrong attribute lengths, values out of range, unknown
attributes, a string where a nest belongs, missing attributes.

Every malformed case is one mutation of a valid base message (base_sa() or
base_policy()); `valid sa|policy` sends the base message itself, so a test
can first prove that the encoding is right and only the mutation is wrong.
Constants come from include/uapi/linux/nfsec.h, parsed at start-up.

Usage (cwd anywhere):
    nl_raw.py list                 the cases, one per line: NAME  what it sends
    nl_raw.py case NAME...         send each case; prints one line per case
                                   "NAME: errno=22 (EINVAL) msg=\"...\" ..."
                                   exit 0 iff every case was refused with the
                                   errno and the extack message its entry in
                                   the case table names (exactly)
    nl_raw.py valid sa SPI         send the base SA_ADD with SPI; exit 0 iff
                                   the kernel acked it
    nl_raw.py valid encap SPI      the same with the base ENCAP nest (the
                                   encap_* cases' base)
    nl_raw.py valid policy         send the base POLICY_ADD (a bypass policy)
    nl_raw.py family               print the family id
    nl_raw.py selftest             offline checks of the encoder and parser
    nl_raw.py serve                run the commands above from stdin, so
                                   that a test starts python only once:
                                   each request is its arguments, each
                                   ended by a NUL, then one more NUL; each
                                   answer is the command's output, a NUL,
                                   its exit status in decimal, a NUL

Exit status: 0 as above, 1 when a case was accepted or refused without a
message, 2 when the family cannot be resolved ("family nfsec not found") or
the socket fails, 3 on a usage error.
"""

import contextlib
import errno
import io
import os
import re
import socket
import struct
import sys

# --- netlink and generic netlink constants (linux/netlink.h, genetlink.h) ---

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11

NLMSG_ERROR = 2
NLMSG_DONE = 3

NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ACK = 0x04
NLM_F_CAPPED = 0x100
NLM_F_ACK_TLVS = 0x200

NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff

NLMSGERR_ATTR_MSG = 1
NLMSGERR_ATTR_OFFS = 2
NLMSGERR_ATTR_COOKIE = 3
NLMSGERR_ATTR_POLICY = 4
NLMSGERR_ATTR_MISS_TYPE = 5
NLMSGERR_ATTR_MISS_NEST = 6

GENL_ID_CTRL = 0x10
CTRL_CMD_NEWFAMILY = 1
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2

NLMSG_HDR = struct.Struct('=IHHII')   # len, type, flags, seq, pid
GENL_HDR = struct.Struct('=BBH')      # cmd, version, reserved
NLA_HDR = struct.Struct('=HH')        # len, type

IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_UDP = 17

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                      'include', 'uapi', 'linux', 'nfsec.h')


# --- the uapi header ---

def parse_header(text):
    """Return {NAME: value} for the enum members and #defines of nfsec.h."""
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    names = {}

    def value(expr):
        expr = re.sub(r'(\d+)[uUlL]+\b', r'\1', expr.strip())
        for name in sorted(names, key=len, reverse=True):
            expr = re.sub(r'\b%s\b' % name, str(names[name]), expr)
        if not re.fullmatch(r'[\d\s()+\-*<>|&x]+', expr):
            raise ValueError('cannot evaluate %r' % expr)
        return int(eval(expr))  # digits and operators only, checked above

    for body in re.findall(r'enum\s+\w+\s*\{(.*?)\}\s*;', text, flags=re.S):
        nxt = 0
        for item in body.split(','):
            item = item.strip()
            if not item:
                continue
            if '=' in item:
                name, expr = item.split('=', 1)
                nxt = value(expr)
                name = name.strip()
            else:
                name = item
            names[name] = nxt
            nxt += 1
    for name, expr in re.findall(r'#define\s+(\w+)\s+([^\n"]+)', text):
        try:
            names[name] = value(expr)
        except ValueError:
            pass
    return names


try:
    with open(HEADER) as f:
        K = parse_header(f.read())
except OSError as e:
    sys.exit('nl_raw.py: cannot read %s: %s' % (HEADER, e))


def k(name):
    return K[name]


# --- encoding ---

class A:
    """One attribute: type, and either bytes or a list of A (a nest)."""

    def __init__(self, atype, value, flags=None):
        self.type = atype
        self.value = value
        # a nest gets NLA_F_NESTED unless told otherwise
        self.flags = (NLA_F_NESTED if isinstance(value, list) else 0) \
            if flags is None else flags

    def encode(self):
        if isinstance(self.value, list):
            payload = b''.join(a.encode() for a in self.value)
        else:
            payload = self.value
        raw = NLA_HDR.pack(NLA_HDR.size + len(payload),
                           self.type | self.flags) + payload
        return raw + b'\0' * (-len(raw) % 4)

    def find(self, atype):
        for a in self.value:
            if a.type == atype:
                return a
        raise KeyError(atype)


def u8(v):
    return struct.pack('=B', v)


def u16(v):
    return struct.pack('=H', v)


def u32(v):
    return struct.pack('=I', v)


def u64(v):
    return struct.pack('=Q', v)


def be32(v):
    return struct.pack('>I', v)


def ip4(s):
    return socket.inet_pton(socket.AF_INET, s)


def ip6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def strz(s):
    return s.encode() + b'\0'


def genl_msg(family_id, cmd, attrs, seq, flags=NLM_F_REQUEST | NLM_F_ACK):
    body = GENL_HDR.pack(cmd, k('NFSEC_GENL_VERSION'), 0) + \
        b''.join(a.encode() for a in attrs)
    return NLMSG_HDR.pack(NLMSG_HDR.size + len(body), family_id, flags,
                          seq, 0) + body


def parse_attrs(buf):
    """[(type, payload)] of a run of attributes; stops at a bad length."""
    out = []
    off = 0
    while off + NLA_HDR.size <= len(buf):
        alen, atype = NLA_HDR.unpack_from(buf, off)
        if alen < NLA_HDR.size or off + alen > len(buf):
            break
        out.append((atype & NLA_TYPE_MASK, buf[off + NLA_HDR.size:off + alen]))
        off += (alen + 3) & ~3
    return out


class Reply:
    """What came back for one request."""

    def __init__(self):
        self.errno = None       # 0 for an ack, positive errno for a refusal
        self.msg = ''           # extack NLMSGERR_ATTR_MSG
        self.offs = None        # extack NLMSGERR_ATTR_OFFS
        self.miss_type = None
        self.miss_nest = None
        self.messages = []      # (nlmsg type, payload) of non-error replies

    def describe(self):
        if self.errno is None:
            return 'no ack'
        name = errno.errorcode.get(self.errno, '?')
        s = 'errno=%d (%s) msg="%s"' % (self.errno, name, self.msg)
        if self.offs is not None:
            s += ' offs=%d' % self.offs
        if self.miss_type is not None:
            s += ' miss_type=%d' % self.miss_type
        if self.miss_nest is not None:
            s += ' miss_nest=%d' % self.miss_nest
        return s


def parse_replies(buf, seq, reply):
    """Fill reply from one recv() buffer; True when the request is done."""
    off = 0
    done = False
    while off + NLMSG_HDR.size <= len(buf):
        mlen, mtype, mflags, mseq, _ = NLMSG_HDR.unpack_from(buf, off)
        if mlen < NLMSG_HDR.size or off + mlen > len(buf):
            break
        payload = buf[off + NLMSG_HDR.size:off + mlen]
        off += (mlen + 3) & ~3
        if mseq != seq:
            continue
        if mtype == NLMSG_DONE:
            reply.errno = 0
            done = True
        elif mtype == NLMSG_ERROR:
            (err,) = struct.unpack_from('=i', payload, 0)
            reply.errno = -err
            done = True
            if mflags & NLM_F_ACK_TLVS:
                orig_len = NLMSG_HDR.unpack_from(payload, 4)[0]
                tlv = 4 + (NLMSG_HDR.size if mflags & NLM_F_CAPPED
                           else (orig_len + 3) & ~3)
                for atype, val in parse_attrs(payload[tlv:]):
                    if atype == NLMSGERR_ATTR_MSG:
                        reply.msg = val.rstrip(b'\0').decode(errors='replace')
                    elif atype == NLMSGERR_ATTR_OFFS and len(val) == 4:
                        reply.offs = struct.unpack('=I', val)[0]
                    elif atype == NLMSGERR_ATTR_MISS_TYPE and len(val) == 4:
                        reply.miss_type = struct.unpack('=I', val)[0]
                    elif atype == NLMSGERR_ATTR_MISS_NEST and len(val) == 4:
                        reply.miss_nest = struct.unpack('=I', val)[0]
        else:
            reply.messages.append((mtype, payload))
    return done


class Conn:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                  NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.sock.settimeout(10)
        self.seq = 1000

    def request(self, family_id, cmd, attrs, flags=NLM_F_REQUEST | NLM_F_ACK):
        self.seq += 1
        self.sock.send(genl_msg(family_id, cmd, attrs, self.seq, flags))
        reply = Reply()
        while not parse_replies(self.sock.recv(1 << 20), self.seq, reply):
            pass
        return reply

    def family(self, name):
        reply = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                             [A(CTRL_ATTR_FAMILY_NAME, strz(name))])
        for mtype, payload in reply.messages:
            for atype, val in parse_attrs(payload[GENL_HDR.size:]):
                if atype == CTRL_ATTR_FAMILY_ID:
                    return struct.unpack('=H', val[:2])[0]
        return None


# --- the base messages and their mutations ---

def base_sa(spi, direction='NFSEC_DIR_OUT'):
    """A valid SA_ADD nest: ESP tunnel, rfc4106(gcm(aes)), 10.0.0.1 > .2."""
    return [
        A(k('NFSEC_SA_A_DIR'), u8(k(direction))),
        A(k('NFSEC_SA_A_FAMILY'), u16(socket.AF_INET)),
        A(k('NFSEC_SA_A_SRC'), ip4('10.0.0.1')),
        A(k('NFSEC_SA_A_DST'), ip4('10.0.0.2')),
        A(k('NFSEC_SA_A_SPI'), be32(spi)),
        A(k('NFSEC_SA_A_PROTO'), u8(IPPROTO_ESP)),
        A(k('NFSEC_SA_A_MODE'), u8(k('NFSEC_MODE_TUNNEL'))),
        A(k('NFSEC_SA_A_AEAD'), [
            A(k('NFSEC_ALG_A_NAME'), strz('rfc4106(gcm(aes))')),
            A(k('NFSEC_ALG_A_KEY'), bytes(range(1, 21))),
            A(k('NFSEC_ALG_A_ICV_BITS'), u32(128)),
        ]),
    ]


def base_policy():
    """A valid POLICY_ADD nest: out 192.168.1.0/24 > 192.168.2.0/24 bypass,
    priority 4242 (so that it cannot collide with the tests' policies)."""
    return [
        A(k('NFSEC_POL_A_DIR'), u8(k('NFSEC_DIR_OUT'))),
        A(k('NFSEC_POL_A_FAMILY'), u16(socket.AF_INET)),
        A(k('NFSEC_POL_A_SRC'), ip4('192.168.1.0')),
        A(k('NFSEC_POL_A_SRC_PLEN'), u8(24)),
        A(k('NFSEC_POL_A_DST'), ip4('192.168.2.0')),
        A(k('NFSEC_POL_A_DST_PLEN'), u8(24)),
        A(k('NFSEC_POL_A_PRIORITY'), u32(4242)),
        A(k('NFSEC_POL_A_ACTION'), u8(k('NFSEC_ACTION_BYPASS'))),
    ]


def sa_req(sa):
    return k('NFSEC_CMD_SA_ADD'), [A(k('NFSEC_A_SA'), sa)]


def pol_req(pol):
    return k('NFSEC_CMD_POLICY_ADD'), [A(k('NFSEC_A_POLICY'), pol)]


def sa_set(name, value, spi, direction='NFSEC_DIR_OUT'):
    """The base SA with attribute NAME's payload replaced by VALUE."""
    sa = base_sa(spi, direction)
    for a in sa:
        if a.type == k(name):
            a.value = value
            a.flags = 0
            return sa_req(sa)
    sa.append(A(k(name), value))
    return sa_req(sa)


def sa_without(name, spi):
    return sa_req([a for a in base_sa(spi) if a.type != k(name)])


def aead_set(name, value, spi):
    sa = base_sa(spi)
    aead = sa[-1]
    for a in aead.value:
        if a.type == k(name):
            a.value = value
            return sa_req(sa)
    aead.value.append(A(k(name), value))
    return sa_req(sa)


def aead_without(name, spi):
    sa = base_sa(spi)
    sa[-1].value = [a for a in sa[-1].value if a.type != k(name)]
    return sa_req(sa)


def pol_set(name, value):
    pol = [a for a in base_policy() if a.type != k(name)]
    pol.append(A(k(name), value))
    return pol_req(pol)


def base_alloc():
    """A valid SA_ALLOC_SPI nest: ESP to 10.0.0.2 from 10.0.0.1."""
    return [
        A(k('NFSEC_SA_A_FAMILY'), u16(socket.AF_INET)),
        A(k('NFSEC_SA_A_SRC'), ip4('10.0.0.1')),
        A(k('NFSEC_SA_A_DST'), ip4('10.0.0.2')),
        A(k('NFSEC_SA_A_PROTO'), u8(IPPROTO_ESP)),
    ]


def alloc_req(name=None, value=None, drop=None):
    """SA_ALLOC_SPI: the base with attribute NAME set to VALUE, or without
    attribute DROP."""
    sa = [a for a in base_alloc() if a.type not in (k(name) if name else 0,
                                                    k(drop) if drop else 0)]
    if name:
        sa.append(A(k(name), value))
    return k('NFSEC_CMD_SA_ALLOC_SPI'), [A(k('NFSEC_A_SA'), sa)]


def base_encap():
    """A valid ENCAP nest: ESP in UDP, port 4500 to port 4500."""
    return [
        A(k('NFSEC_ENCAP_A_TYPE'), u8(k('NFSEC_ENCAP_UDP'))),
        A(k('NFSEC_ENCAP_A_SPORT'), u16(4500)),
        A(k('NFSEC_ENCAP_A_DPORT'), u16(4500)),
    ]


def encap_set(name, value, spi, direction='NFSEC_DIR_OUT'):
    """The base SA of DIRECTION with the base ENCAP nest, in which attribute
    NAME's payload is VALUE (added if the nest lacks it; None: left out)."""
    encap = [a for a in base_encap() if a.type != k(name)]
    if value is not None:
        encap.append(A(k(name), value))
    return sa_req(base_sa(spi, direction) +
                  [A(k('NFSEC_SA_A_ENCAP'), encap)])


def case_encap_ah(spi):
    # a valid AH SA (hmac(sha256)) but for its ENCAP nest
    sa = [a for a in base_sa(spi)
          if a.type not in (k('NFSEC_SA_A_PROTO'), k('NFSEC_SA_A_AEAD'))]
    return sa_req(sa + [
        A(k('NFSEC_SA_A_PROTO'), u8(IPPROTO_AH)),
        A(k('NFSEC_SA_A_AUTH'), [
            A(k('NFSEC_ALG_A_NAME'), strz('hmac(sha256)')),
            A(k('NFSEC_ALG_A_KEY'), bytes(range(1, 33))),
        ]),
        A(k('NFSEC_SA_A_ENCAP'), base_encap()),
    ])


def case_unknown_top(spi):
    cmd, attrs = sa_req(base_sa(spi))
    return cmd, attrs + [A(k('NFSEC_A_MAX') + 1, u32(0))]


def case_unknown_sa_attr(spi):
    return sa_req(base_sa(spi) + [A(k('NFSEC_SA_A_MAX') + 1, u32(0))])


def case_unknown_alg_attr(spi):
    sa = base_sa(spi)
    sa[-1].value.append(A(k('NFSEC_ALG_A_MAX') + 1, u32(0)))
    return sa_req(sa)


def case_flow_in_request(spi):
    # NFSEC_A_FLOW belongs to acquire events (sent without NLA_F_NESTED:
    # with it, strict validation refuses it first, "NLA_F_NESTED not
    # expected")
    cmd, attrs = sa_req(base_sa(spi))
    return cmd, attrs + [A(k('NFSEC_A_FLOW'),
                           [A(k('NFSEC_FLOW_A_FAMILY'), u16(socket.AF_INET))],
                           flags=0)]


def case_sa_not_nest(spi):
    # NFSEC_A_SA as a u32, without NLA_F_NESTED
    return k('NFSEC_CMD_SA_ADD'), [A(k('NFSEC_A_SA'), be32(spi), flags=0)]


def case_aead_not_nest(spi):
    return sa_set('NFSEC_SA_A_AEAD', strz('rfc4106(gcm(aes))'), spi)


def case_no_algorithm(spi):
    return sa_without('NFSEC_SA_A_AEAD', spi)


# NFSEC_CMD_BATCH: requests, each a nest whose type is its command. Each
# case leads with a valid SA_ADD of its SPI, which a batch refused as a
# whole must not have added.
def batch_req(*reqs, extra=()):
    return k('NFSEC_CMD_BATCH'), [A(k('NFSEC_A_BATCH'), list(reqs))] + \
        list(extra)


def batch_sa(spi):
    return A(k('NFSEC_CMD_SA_ADD'), [A(k('NFSEC_A_SA'), base_sa(spi))])


def case_batch_get(spi):
    return batch_req(batch_sa(spi),
                     A(k('NFSEC_CMD_SA_GET'), [A(k('NFSEC_A_SA'), [])]))


def case_batch_too_many(spi):
    # (empty SA_DEL requests: 1,025 of them fit a 16-bit nest)
    return batch_req(batch_sa(spi), *[A(k('NFSEC_CMD_SA_DEL'), [])
                                      for _ in range(k('NFSEC_BATCH_MAX'))])


def case_batch_trailing(spi):
    raw = batch_sa(spi).encode() + b'\0' * 4
    return k('NFSEC_CMD_BATCH'), [A(k('NFSEC_A_BATCH'), raw,
                                    flags=NLA_F_NESTED)]


def case_batch_beside_sa(spi):
    return batch_req(batch_sa(spi),
                     extra=[A(k('NFSEC_A_SA'), base_sa(spi + 0x80))])


def case_batch_first_bad(spi):
    bad = base_sa(spi)
    bad[4] = A(k('NFSEC_SA_A_SPI'), be32(255))
    return batch_req(A(k('NFSEC_CMD_SA_ADD'), [A(k('NFSEC_A_SA'), bad)]),
                     batch_sa(spi))


def case_batch_in_batch(spi):
    return batch_req(A(k('NFSEC_CMD_SA_ADD'),
                       [A(k('NFSEC_A_SA'), base_sa(spi)),
                        A(k('NFSEC_A_BATCH'), [batch_sa(spi + 0x80)])]))


def case_batch_request_not_nest(spi):
    return batch_req(A(k('NFSEC_CMD_SA_ADD'), be32(spi), flags=0),
                     batch_sa(spi))


# name: (what it sends, builder(spi) -> (cmd, attrs), the errno it must be
# refused with, the extack message it must carry, exactly)
CASES = {
    'spi_u16': ('SPI as 2 bytes',
                lambda s: sa_set('NFSEC_SA_A_SPI', struct.pack('>H', s), s),
                'EINVAL', 'invalid attribute length'),
    'spi_u64': ('SPI as 8 bytes',
                lambda s: sa_set('NFSEC_SA_A_SPI', struct.pack('>Q', s), s),
                'EINVAL', 'invalid attribute length'),
    'spi_reserved': ('SPI 255',
                     lambda s: sa_set('NFSEC_SA_A_SPI', be32(255), s),
                     'EINVAL', 'SPI 0-255 is reserved (RFC 4303 2.1)'),
    'family_u32': ('FAMILY as a u32',
                   lambda s: sa_set('NFSEC_SA_A_FAMILY', u32(socket.AF_INET),
                                    s),
                   'EINVAL', 'invalid attribute length'),
    'family_99': ('FAMILY 99',
                  lambda s: sa_set('NFSEC_SA_A_FAMILY', u16(99), s),
                  'EAFNOSUPPORT', 'family must be AF_INET or AF_INET6'),
    'dir_9': ('DIR 9', lambda s: sa_set('NFSEC_SA_A_DIR', u8(9), s),
              'ERANGE', 'integer out of range'),
    'dir_0': ('DIR 0', lambda s: sa_set('NFSEC_SA_A_DIR', u8(0), s),
              'ERANGE', 'integer out of range'),
    'dir_fwd': ('DIR FWD on an SA (policies only)',
                lambda s: sa_set('NFSEC_SA_A_DIR', u8(k('NFSEC_DIR_FWD')), s),
                'ERANGE', 'integer out of range'),
    'dir_u32': ('DIR as a u32',
                lambda s: sa_set('NFSEC_SA_A_DIR', u32(k('NFSEC_DIR_OUT')), s),
                'EINVAL', 'invalid attribute length'),
    'mode_7': ('MODE 7', lambda s: sa_set('NFSEC_SA_A_MODE', u8(7), s),
               'ERANGE', 'integer out of range'),
    'mode_0': ('MODE 0', lambda s: sa_set('NFSEC_SA_A_MODE', u8(0), s),
               'ERANGE', 'integer out of range'),
    'proto_udp': ('PROTO 17 (neither ESP nor AH)',
                  lambda s: sa_set('NFSEC_SA_A_PROTO', u8(IPPROTO_UDP), s),
                  'ERANGE', 'integer out of range'),
    'dst_5_bytes': ('DST of 5 bytes',
                    lambda s: sa_set('NFSEC_SA_A_DST', ip4('10.0.0.2') + b'\1',
                                     s),
                    'EINVAL', 'address length does not match the family'),
    'dst_16_bytes_inet': ('DST of 16 bytes with FAMILY AF_INET',
                          lambda s: sa_set('NFSEC_SA_A_DST', ip6('2001:db8::2'),
                                           s),
                          'EINVAL',
                          'address length does not match the family'),
    'src_3_bytes': ('SRC of 3 bytes',
                    lambda s: sa_set('NFSEC_SA_A_SRC', b'\x0a\0\0', s),
                    'ERANGE', 'binary attribute size out of range'),
    'dst_empty': ('DST of 0 bytes',
                  lambda s: sa_set('NFSEC_SA_A_DST', b'', s),
                  'ERANGE', 'binary attribute size out of range'),
    'unknown_top': ('unknown top-level attribute NFSEC_A_MAX+1',
                    case_unknown_top,
                    'EINVAL', 'Unknown attribute type'),
    'unknown_sa_attr': ('unknown attribute NFSEC_SA_A_MAX+1 in the SA nest',
                        case_unknown_sa_attr,
                        'EINVAL', 'Unknown attribute type'),
    'unknown_alg_attr': ('unknown attribute NFSEC_ALG_A_MAX+1 in AEAD',
                         case_unknown_alg_attr,
                         'EINVAL', 'Unknown attribute type'),
    'flow_in_request': ('NFSEC_A_FLOW (events only) in an SA_ADD',
                        case_flow_in_request,
                        'EINVAL', 'attribute is only in events'),
    'sa_not_nest': ('NFSEC_A_SA as a u32, not a nest', case_sa_not_nest,
                    'EINVAL', 'NLA_F_NESTED is missing'),
    'aead_not_nest': ('AEAD as a string, not a nest', case_aead_not_nest,
                      'EINVAL', 'NLA_F_NESTED is missing'),
    'alg_name_no_nul': ('ALG_NAME without its NUL',
                        lambda s: aead_set('NFSEC_ALG_A_NAME',
                                           b'rfc4106(gcm(aes))', s),
                        'EINVAL', 'Attribute failed policy validation'),
    'alg_name_64': ('ALG_NAME of 64 characters and a NUL (65 bytes)',
                    lambda s: aead_set('NFSEC_ALG_A_NAME', strz('a' * 64), s),
                    'EINVAL', 'Attribute failed policy validation'),
    'alg_name_long': ('ALG_NAME of 300 bytes',
                      lambda s: aead_set('NFSEC_ALG_A_NAME', strz('b' * 299),
                                         s),
                      'EINVAL', 'Attribute failed policy validation'),
    'alg_name_empty': ('ALG_NAME ""',
                       lambda s: aead_set('NFSEC_ALG_A_NAME', b'\0', s),
                       'ENOENT', 'unknown algorithm'),
    'key_129': ('ALG_KEY of 129 bytes',
                lambda s: aead_set('NFSEC_ALG_A_KEY', bytes(129), s),
                'ERANGE', 'Attribute failed policy validation'),
    'icv_u8': ('ICV_BITS as a u8',
               lambda s: aead_set('NFSEC_ALG_A_ICV_BITS', u8(128), s),
               'EINVAL', 'invalid attribute length'),
    'alg_no_name': ('AEAD without ALG_NAME',
                    lambda s: aead_without('NFSEC_ALG_A_NAME', s),
                    'EINVAL', 'algorithm without a name'),
    'flags_unknown': ('SA FLAGS with an undefined bit',
                      lambda s: sa_set('NFSEC_SA_A_FLAGS', u32(1 << 31), s),
                      'EINVAL', 'reserved bit set'),
    'replay_4097': ('inbound REPLAY_WINDOW 4097',
                    lambda s: sa_set('NFSEC_SA_A_REPLAY_WINDOW', u32(4097), s,
                                     'NFSEC_DIR_IN'),
                    'EINVAL', 'replay window out of range (0-4096)'),
    'df_3': ('DF 3', lambda s: sa_set('NFSEC_SA_A_DF', u8(3), s),
             'ERANGE', 'integer out of range'),
    'missing_spi': ('SA_ADD without SPI',
                    lambda s: sa_without('NFSEC_SA_A_SPI', s),
                    'EINVAL', 'missing SA attribute: spi'),
    'missing_dst': ('SA_ADD without DST',
                    lambda s: sa_without('NFSEC_SA_A_DST', s),
                    'EINVAL', 'missing SA attribute: dst'),
    'missing_family': ('SA_ADD without FAMILY',
                       lambda s: sa_without('NFSEC_SA_A_FAMILY', s),
                       'EINVAL', 'missing SA attribute: family'),
    'missing_proto': ('SA_ADD without PROTO',
                      lambda s: sa_without('NFSEC_SA_A_PROTO', s),
                      'EINVAL', 'missing SA attribute: proto'),
    'missing_dir': ('SA_ADD without DIR',
                    lambda s: sa_without('NFSEC_SA_A_DIR', s),
                    'EINVAL', 'missing SA attribute: dir'),
    'missing_mode': ('SA_ADD without MODE',
                     lambda s: sa_without('NFSEC_SA_A_MODE', s),
                     'EINVAL', 'missing SA attribute: mode'),
    'no_algorithm': ('ESP SA without AEAD, ENC or AUTH', case_no_algorithm,
                     'EINVAL',
                     'ESP needs an aead or an auth algorithm (no confidentiality-only SAs)'),
    'sa_add_empty': ('SA_ADD with no NFSEC_A_SA at all',
                     lambda s: (k('NFSEC_CMD_SA_ADD'), []),
                     'EINVAL', 'missing SA attributes (NFSEC_A_SA)'),
    'sa_update_empty': ('SA_UPDATE with no NFSEC_A_SA',
                        lambda s: (k('NFSEC_CMD_SA_UPDATE'), []),
                        'EINVAL', 'missing SA attributes (NFSEC_A_SA)'),
    'sa_del_empty': ('SA_DEL with no NFSEC_A_SA',
                     lambda s: (k('NFSEC_CMD_SA_DEL'), []),
                     'EINVAL', 'missing SA attributes (NFSEC_A_SA)'),
    'sa_get_empty': ('SA_GET (doit) with no NFSEC_A_SA',
                     lambda s: (k('NFSEC_CMD_SA_GET'), []),
                     'EINVAL', 'missing SA attributes (NFSEC_A_SA)'),
    'sa_in_policy_add': ('POLICY_ADD carrying NFSEC_A_SA instead',
                         lambda s: (k('NFSEC_CMD_POLICY_ADD'),
                                    [A(k('NFSEC_A_SA'), base_sa(s))]),
                         'EINVAL',
                         'missing policy attributes (NFSEC_A_POLICY)'),
    'policy_add_empty': ('POLICY_ADD with no NFSEC_A_POLICY',
                         lambda s: (k('NFSEC_CMD_POLICY_ADD'), []),
                         'EINVAL',
                         'missing policy attributes (NFSEC_A_POLICY)'),
    'policy_del_empty': ('POLICY_DEL with no NFSEC_A_POLICY',
                         lambda s: (k('NFSEC_CMD_POLICY_DEL'), []),
                         'EINVAL',
                         'missing policy attributes (NFSEC_A_POLICY)'),
    'policy_dir_9': ('policy DIR 9',
                     lambda s: pol_set('NFSEC_POL_A_DIR', u8(9)),
                     'ERANGE', 'integer out of range'),
    'policy_action_9': ('policy ACTION 9',
                        lambda s: pol_set('NFSEC_POL_A_ACTION', u8(9)),
                        'ERANGE', 'integer out of range'),
    'policy_plen_33': ('policy SRC_PLEN 33 for AF_INET',
                       lambda s: pol_set('NFSEC_POL_A_SRC_PLEN', u8(33)),
                       'EINVAL', 'prefix length out of range'),
    'policy_host_bits': ('policy 192.168.1.0/16 (host bits set)',
                         lambda s: pol_set('NFSEC_POL_A_SRC_PLEN', u8(16)),
                         'EINVAL', 'prefix has host bits set'),
    'policy_src_5_bytes': ('policy SRC of 5 bytes',
                           lambda s: pol_set('NFSEC_POL_A_SRC',
                                             ip4('192.168.1.0') + b'\0'),
                           'EINVAL',
                           'address length does not match the family'),
    'policy_sport_u32': ('policy SPORT as a u32',
                         lambda s: pol_set('NFSEC_POL_A_SPORT', u32(80)),
                         'EINVAL', 'invalid attribute length'),
    'policy_port_no_proto': ('policy DPORT 80 with PROTO 0',
                             lambda s: pol_set('NFSEC_POL_A_DPORT', u16(80)),
                             'EINVAL',
                             'ports need protocol tcp, udp, sctp or udplite'),
    'policy_protect_no_spi': ('protect policy without SA_SPI',
                              lambda s: pol_set('NFSEC_POL_A_ACTION',
                                                u8(k('NFSEC_ACTION_PROTECT'))),
                              'EINVAL', "a protect policy needs the SA's spi"),
    'sa_state_in_request': ('SA_ADD carrying STATE (reply only)',
                            lambda s: sa_set('NFSEC_SA_A_STATE', u8(2), s),
                            'EINVAL', 'attribute is only in replies'),
    'sa_add_spi_min': ('SA_ADD carrying SPI_MIN',
                       lambda s: sa_set('NFSEC_SA_A_SPI_MIN', u32(0x1000), s),
                       'EINVAL',
                       'spi-min, spi-max and timeout are for alloc-spi'),
    'alloc_spi_empty': ('SA_ALLOC_SPI with no NFSEC_A_SA',
                        lambda s: (k('NFSEC_CMD_SA_ALLOC_SPI'), []),
                        'EINVAL', 'missing SA attributes (NFSEC_A_SA)'),
    'alloc_spi_with_spi': ('SA_ALLOC_SPI carrying SPI',
                           lambda s: alloc_req('NFSEC_SA_A_SPI', be32(s)),
                           'EINVAL',
                           'alloc-spi chooses the SPI: give a range (spi-min, spi-max)'),
    'alloc_spi_with_mode': ('SA_ALLOC_SPI carrying MODE',
                            lambda s: alloc_req('NFSEC_SA_A_MODE',
                                                u8(k('NFSEC_MODE_TUNNEL'))),
                            'EINVAL',
                            'alloc-spi takes only family, src, dst, proto, spi-min, spi-max and timeout'),
    'alloc_spi_no_src': ('SA_ALLOC_SPI without SRC',
                         lambda s: alloc_req(drop='NFSEC_SA_A_SRC'),
                         'EINVAL', 'missing SA attribute: src'),
    'alloc_spi_timeout_u8': ('SA_ALLOC_SPI with TIMEOUT as a u8',
                             lambda s: alloc_req('NFSEC_SA_A_TIMEOUT', u8(5)),
                             'EINVAL', 'invalid attribute length'),
    'alloc_spi_min_0': ('SA_ALLOC_SPI with SPI_MIN 0',
                        lambda s: alloc_req('NFSEC_SA_A_SPI_MIN', u32(0)),
                        'EINVAL',
                        'spi-min below 256 (SPIs 0-255 are reserved, RFC 4303 2.1)'),
    'policy_reqid_family_no_dst': ('protect by reqid with SA_FAMILY, no SA_DST',
                                   lambda s: pol_req(
                                       [a for a in base_policy()
                                        if a.type != k('NFSEC_POL_A_ACTION')] +
                                       [A(k('NFSEC_POL_A_ACTION'),
                                          u8(k('NFSEC_ACTION_PROTECT'))),
                                        A(k('NFSEC_POL_A_SA_REQID'), u32(5)),
                                        A(k('NFSEC_POL_A_SA_FAMILY'),
                                          u16(socket.AF_INET6))]),
                                   'EINVAL',
                                   "the SA's family goes with the SA's dst or src"),
    'use_time_in_request': ('USE_TIME (reply only) in SA_ADD',
                            lambda s: sa_set('NFSEC_SA_A_USE_TIME', u64(0), s),
                            'EINVAL', 'attribute is only in replies'),
    'use_seconds_soft_above_hard': ('LIFETIME SOFT_USE_SECONDS 9 above '
                                    'HARD_USE_SECONDS 8',
                                    lambda s: sa_set('NFSEC_SA_A_LIFETIME', [
                                        A(k('NFSEC_LT_A_SOFT_USE_SECONDS'),
                                          u64(9)),
                                        A(k('NFSEC_LT_A_HARD_USE_SECONDS'),
                                          u64(8))], s),
                                    'EINVAL',
                                    'a soft lifetime limit exceeds its hard '
                                    'limit'),
    'encap_ah': ('ENCAP on an AH SA', case_encap_ah,
                 'EINVAL', 'encapsulation in UDP is for ESP only (RFC 3948)'),
    'encap_no_type': ('ENCAP without TYPE',
                      lambda s: encap_set('NFSEC_ENCAP_A_TYPE', None, s),
                      'EINVAL', 'encap type must be udp'),
    'encap_type_2': ('ENCAP TYPE 2',
                     lambda s: encap_set('NFSEC_ENCAP_A_TYPE', u8(2), s),
                     'EINVAL', 'encap type must be udp'),
    'encap_sport_0': ('ENCAP SPORT 0',
                      lambda s: encap_set('NFSEC_ENCAP_A_SPORT', u16(0), s),
                      'EINVAL', 'encap port must be 1-65535'),
    'encap_dport_0': ('ENCAP DPORT 0',
                      lambda s: encap_set('NFSEC_ENCAP_A_DPORT', u16(0), s),
                      'EINVAL', 'encap port must be 1-65535'),
    'encap_flags_unknown': ('ENCAP FLAGS with an undefined bit',
                            lambda s: encap_set('NFSEC_ENCAP_A_FLAGS',
                                                u32(1 << 31), s),
                            'EINVAL', 'unknown encap flags'),
    'encap_follow_out': ('ENCAP FLAGS FOLLOW on an outbound SA',
                         lambda s: encap_set('NFSEC_ENCAP_A_FLAGS',
                                             u32(k('NFSEC_ENCAP_F_FOLLOW')),
                                             s),
                         'EINVAL', 'follow is for inbound SAs'),
    'encap_keepalive_in': ('ENCAP KEEPALIVE 20 on an inbound SA',
                           lambda s: encap_set('NFSEC_ENCAP_A_KEEPALIVE',
                                               u32(20), s, 'NFSEC_DIR_IN'),
                           'EINVAL', 'keepalive is for outbound SAs'),
    'encap_keepalive_3601': ('ENCAP KEEPALIVE 3601 on an outbound SA',
                             lambda s: encap_set('NFSEC_ENCAP_A_KEEPALIVE',
                                                 u32(3601), s),
                             'EINVAL', 'keepalive is 0-3600 seconds'),
    'batch_missing': ('BATCH without NFSEC_A_BATCH',
                      lambda s: (k('NFSEC_CMD_BATCH'), []),
                      'EINVAL', 'missing batch attribute (NFSEC_A_BATCH)'),
    'batch_get': ('BATCH of an SA_ADD and an SA_GET',
                  case_batch_get,
                  'EINVAL', 'command not allowed in a batch'),
    'batch_too_many': ('BATCH of NFSEC_BATCH_MAX + 1 requests',
                       case_batch_too_many, 'EINVAL',
                       'too many requests in a batch (at most 1024)'),
    'batch_trailing': ('BATCH of an SA_ADD and 4 bytes more',
                       case_batch_trailing,
                       'EINVAL', 'batch has trailing bytes'),
    'batch_beside_sa': ('BATCH with NFSEC_A_SA beside NFSEC_A_BATCH',
                        case_batch_beside_sa,
                        'EINVAL', 'attribute not allowed beside a batch'),
    'batch_first_bad': ('BATCH whose first request has SPI 255',
                        case_batch_first_bad,
                        'EINVAL', 'SPI 0-255 is reserved (RFC 4303 2.1)'),
    'batch_in_batch': ('BATCH whose request holds a BATCH',
                       case_batch_in_batch, 'EINVAL',
                       "attribute not allowed in a batch's request"),
    'batch_request_not_nest': ('BATCH whose first request is a u32',
                               case_batch_request_not_nest,
                               'EINVAL', 'NLA_F_NESTED is missing'),
}


# --- commands ---

def connect():
    try:
        conn = Conn()
    except OSError as e:
        print('nl_raw.py: netlink socket: %s' % e)
        sys.exit(2)
    fid = conn.family('nfsec')
    if fid is None:
        print('nl_raw.py: family nfsec not found (is the module loaded?)')
        sys.exit(2)
    return conn, fid


def cmd_case(names):
    bad = [n for n in names if n not in CASES]
    if bad or not names:
        print('nl_raw.py: unknown case(s): %s' % ' '.join(bad))
        return 3
    conn, fid = connect()
    status = 0
    for name in names:
        what, build, want_errno, want_msg = CASES[name]
        # each case its own SPI, so a wrongly accepted one stands out
        spi = 0x7000 + sorted(CASES).index(name)
        cmd, attrs = build(spi)
        reply = conn.request(fid, cmd, attrs)
        verdict = 'refused'
        if reply.errno is None:
            verdict = 'FAIL: no answer'
        elif reply.errno == 0:
            verdict = 'FAIL: accepted'
        elif errno.errorcode.get(reply.errno) != want_errno:
            verdict = 'FAIL: errno is not %s' % want_errno
        elif reply.msg != want_msg:
            verdict = 'FAIL: message is not "%s"' % want_msg
        if verdict != 'refused':
            status = 1
        print('%s: %s: %s [sent: %s]' % (name, reply.describe(), verdict,
                                         what))
    return status


def cmd_valid(args):
    if args[:1] == ['sa'] and len(args) == 2:
        cmd, attrs = sa_req(base_sa(int(args[1], 0)))
    elif args[:1] == ['encap'] and len(args) == 2:
        cmd, attrs = sa_req(base_sa(int(args[1], 0)) +
                            [A(k('NFSEC_SA_A_ENCAP'), base_encap())])
    elif args == ['policy']:
        cmd, attrs = pol_req(base_policy())
    else:
        print('usage: nl_raw.py valid sa SPI | valid encap SPI | '
              'valid policy')
        return 3
    conn, fid = connect()
    reply = conn.request(fid, cmd, attrs)
    print('valid %s: %s' % (' '.join(args), reply.describe()))
    return 0 if reply.errno == 0 else 1


def cmd_family():
    _, fid = connect()
    print(fid)
    return 0


def cmd_selftest():
    """Offline checks: encoding, padding, nesting flags, ack parsing."""
    fails = []

    def eq(what, want, got):
        if want != got:
            fails.append('%s: want %r, got %r' % (what, want, got))

    eq('header NFSEC_SA_A_SPI', 5, k('NFSEC_SA_A_SPI'))
    eq('header NFSEC_CMD_STATS_GET', 11, k('NFSEC_CMD_STATS_GET'))
    eq('header NFSEC_POL_A_SA_PROTO', 15, k('NFSEC_POL_A_SA_PROTO'))
    eq('header NFSEC_SA_F_ESN', 1, k('NFSEC_SA_F_ESN'))
    eq('header NFSEC_A_MAX', 7, k('NFSEC_A_MAX'))
    eq('header NFSEC_KEY_MAX', 128, k('NFSEC_KEY_MAX'))
    eq('u8 attr', b'\x05\x00\x01\x00\x07\x00\x00\x00', A(1, u8(7)).encode())
    eq('be32 attr', b'\x08\x00\x05\x00\x00\x00\x10\x00',
       A(5, be32(0x1000)).encode())
    eq('string attr', b'\x07\x00\x01\x00ab\x00\x00',
       A(1, strz('ab')).encode())
    eq('nest', b'\x0c\x00\x08\x80\x05\x00\x01\x00\x02\x00\x00\x00',
       A(8, [A(1, u8(2))]).encode())
    eq('empty nest', b'\x04\x00\x01\x80', A(1, []).encode())
    msg = genl_msg(0x20, 1, [A(1, [A(5, be32(256))])], 7)
    eq('nlmsg length', len(msg), struct.unpack_from('=I', msg)[0])
    eq('nlmsg header', (32, 0x20, NLM_F_REQUEST | NLM_F_ACK, 7, 0),
       NLMSG_HDR.unpack_from(msg))
    eq('genl header', (1, 1, 0), GENL_HDR.unpack_from(msg, 16))
    eq('attrs round trip', [(1, A(5, be32(256)).encode())],
       parse_attrs(msg[20:]))
    # every case builds, and every SA case differs from the base message
    base = sa_req(base_sa(0x7000))
    for name, (_, build, want_errno, _) in CASES.items():
        if not hasattr(errno, want_errno):
            fails.append('case %s: no errno %s' % (name, want_errno))
        try:
            cmd, attrs = build(0x7000)
            raw = b''.join(a.encode() for a in attrs)
        except Exception as e:  # report, do not stop
            fails.append('case %s does not build: %r' % (name, e))
            continue
        if cmd == base[0] and raw == b''.join(a.encode() for a in base[1]):
            fails.append('case %s equals the base message' % name)
    # a capped error ack with extack message, offset and missing type
    tlvs = A(NLMSGERR_ATTR_MSG, strz('SA already exists')).encode() + \
        A(NLMSGERR_ATTR_OFFS, u32(36)).encode() + \
        A(NLMSGERR_ATTR_MISS_TYPE, u32(5)).encode()
    orig = NLMSG_HDR.pack(64, 0x20, 5, 9, 0)
    payload = struct.pack('=i', -errno.EEXIST) + orig + tlvs
    ack = NLMSG_HDR.pack(16 + len(payload), NLMSG_ERROR,
                         NLM_F_CAPPED | NLM_F_ACK_TLVS, 9, 0) + payload
    r = Reply()
    eq('capped ack done', True, parse_replies(ack, 9, r))
    eq('capped ack', 'errno=17 (EEXIST) msg="SA already exists" offs=36 '
       'miss_type=5', r.describe())
    # an uncapped one carries the whole request before the TLVs
    orig = genl_msg(0x20, 1, [A(1, [A(5, be32(256))])], 9)
    payload = struct.pack('=i', -errno.EINVAL) + orig + \
        A(NLMSGERR_ATTR_MSG, strz('bad')).encode()
    ack = NLMSG_HDR.pack(16 + len(payload), NLMSG_ERROR, NLM_F_ACK_TLVS, 9,
                         0) + payload
    r = Reply()
    parse_replies(ack, 9, r)
    eq('uncapped ack', 'errno=22 (EINVAL) msg="bad"', r.describe())
    # another sequence number is not ours
    r = Reply()
    eq('foreign seq', False, parse_replies(ack, 10, r))
    for f in fails:
        print('selftest: FAIL %s' % f)
    print('selftest: %d checks failed, %d cases' % (len(fails), len(CASES)))
    return 1 if fails else 0


def cmd_serve():
    buf = b''
    args = []
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return 0
        buf += chunk
        while b'\0' in buf:
            field, buf = buf.split(b'\0', 1)
            if field:
                args.append(field.decode())
                continue
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                try:
                    status = main(args)
                except SystemExit as e:
                    if isinstance(e.code, str):
                        print(e.code)
                        status = 1
                    else:
                        status = e.code or 0
                except socket.timeout:
                    print('nl_raw.py: no answer from the kernel within 10 s')
                    status = 2
                except Exception as e:  # report, keep serving
                    print('nl_raw.py: %r' % e)
                    status = 2
            answer = out.getvalue().replace('\0', '') + '\0%d\0' % status
            os.write(1, answer.encode())
            args = []


def main(argv):
    if not argv:
        print(__doc__.strip())
        return 3
    cmd, args = argv[0], argv[1:]
    if cmd == 'list':
        for name in sorted(CASES):
            print('%-22s %s' % (name, CASES[name][0]))
        return 0
    if cmd == 'case':
        return cmd_case(args)
    if cmd == 'valid':
        return cmd_valid(args)
    if cmd == 'family':
        return cmd_family()
    if cmd == 'selftest':
        return cmd_selftest()
    if cmd == 'serve' and not args:
        return cmd_serve()
    print('nl_raw.py: unknown command %r (see nl_raw.py without arguments)'
          % cmd)
    return 3


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except socket.timeout:
        print('nl_raw.py: no answer from the kernel within 10 s')
        sys.exit(2)
