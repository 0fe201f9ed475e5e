#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""nfq_accept.py QUEUE COUNT TIMEOUT: a userspace NFQUEUE verdict program.

Binds netfilter queue QUEUE in the namespace it runs in, accepts the first
COUNT packets queued there (each verdict NF_ACCEPT, given from this
process: the kernel re-injects the packet into the rest of the hooks in
process context), then unbinds and prints "accepted N". Gives up after
TIMEOUT seconds. Standard library only: nfnetlink messages built by hand.
"""

import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND, NFQNL_CFG_CMD_UNBIND = 1, 2
NFQNL_COPY_META = 1
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def attr(kind, data):
    a = struct.pack("=HH", 4 + len(data), kind) + data
    return a + b"\0" * (-len(a) % 4)


def msg(kind, queue, attrs, seq, flags=NLM_F_REQUEST):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue))
    body += b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body),
                       NFNL_SUBSYS_QUEUE << 8 | kind, flags, seq, 0) + body


def attrs_of(data):
    out, off = {}, 0
    while off + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, off)
        if length < 4:
            break
        out[kind & 0x3FFF] = data[off + 4:off + length]
        off += (length + 3) & ~3
    return out


def config(sock, queue, attrs, seq):
    sock.send(msg(NFQNL_MSG_CONFIG, queue, attrs, seq,
                  NLM_F_REQUEST | NLM_F_ACK))
    while True:
        data = sock.recv(65536)
        length, kind = struct.unpack_from("=IH", data)
        if kind == NLMSG_ERROR:
            err = struct.unpack_from("=i", data, 16)[0]
            if err:
                raise SystemExit("nfqueue config: errno %d" % -err)
            return


def main():
    queue, count, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    config(sock, queue, [attr(NFQA_CFG_CMD, struct.pack(
        "=BBH", NFQNL_CFG_CMD_BIND, 0, socket.htons(socket.AF_INET)))], 1)
    config(sock, queue, [attr(NFQA_CFG_PARAMS, struct.pack(
        "!IB", 0, NFQNL_COPY_META))], 2)
    print("bound", flush=True)
    accepted, end = 0, time.monotonic() + timeout
    while accepted < count and time.monotonic() < end:
        sock.settimeout(max(0.1, end - time.monotonic()))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        off = 0
        while off + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, off)
            if kind == NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET:
                hdr = attrs_of(data[off + 20:off + length])[NFQA_PACKET_HDR]
                pid = struct.unpack_from("!I", hdr)[0]
                sock.send(msg(NFQNL_MSG_VERDICT, queue, [attr(
                    NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, pid))],
                    3 + accepted))
                accepted += 1
            off += (length + 3) & ~3
    config(sock, queue, [attr(NFQA_CFG_CMD, struct.pack(
        "=BBH", NFQNL_CFG_CMD_UNBIND, 0, socket.htons(socket.AF_INET)))],
        1000000)
    print("accepted %d" % accepted, flush=True)


if __name__ == "__main__":
    main()
