#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A UDP peer for the scenario tests: binds its ports, says it is ready,
waits for the go, sends its datagrams, then prints what it received.

  udp_peer.py READY GO EXPECT PORTS SEND...

READY: a file it creates once its sockets are bound; GO: a file it waits
for (10 s at most) before sending; EXPECT: how many datagrams to wait for
(5 s at most, then half a second more for any beyond); PORTS: the local ports to bind, comma-separated; each SEND
is "SPORT DST DPORT PAYLOAD" (SPORT one of PORTS, or another port, bound
for that datagram alone). Prints one line per datagram received, sorted:
"LPORT SRC SPORT PAYLOAD". Exit status 1 unless EXPECT came.
"""
import os
import select
import socket
import sys
import time


def bound(family, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    return s


def main():
    ready, go, expect, ports = sys.argv[1:5]
    sends = [w.split() for w in sys.argv[5:]]
    family = socket.AF_INET6 if any(":" in s[1] for s in sends) else \
        socket.AF_INET
    socks = {int(p): bound(family, int(p)) for p in ports.split(",") if p}
    open(ready, "w").close()
    end = time.monotonic() + 10
    while not os.path.exists(go) and time.monotonic() < end:
        time.sleep(0.05)
    for sport, dst, dport, payload in sends:
        s = socks.get(int(sport)) or bound(family, int(sport))
        s.sendto(payload.encode(), (dst, int(dport)))
        if int(sport) not in socks:
            s.close()
    got = []
    end = time.monotonic() + 5
    while time.monotonic() < end:
        if len(got) == int(expect):     # then half a second for extras
            end = min(end, time.monotonic() + 0.5)
        r, _, _ = select.select(list(socks.values()), [], [], 0.1)
        for s in r:
            data, peer = s.recvfrom(2048)
            got.append("%d %s %d %s" % (s.getsockname()[1], peer[0],
                                        peer[1], data.decode()))
    print("\n".join(sorted(got)))
    return 0 if len(got) == int(expect) else 1


sys.exit(main())
