#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""udp_seq.py LOCAL PEER PORT RATE: one end of a numbered UDP stream both ways.

Binds LOCAL:PORT, says "ready" and, while a run is on, sends to PEER:PORT RATE datagrams
a second, each carrying (run, phase, seq): seq counts up from 0 across the
run, phase is the one last set. Counts what it receives per run and phase:
the distinct sequence numbers and the duplicates. Commands on stdin, each
answered with one line on stdout:

  go RUN     start run RUN (a number) in phase 0            -> "ok"
  phase N    the datagrams from now on carry phase N        -> "ok"
  stop       stop sending, wait until nothing has come for
             1 s (5 s at most), then report the run:
             "sent S0 S1 ...;recv R0 R1 ...;dup D0 D1 ...;other O"
             per phase 0..N (recv: distinct seqs of this run,
             dup: those that came again; O: malformed)

Standard library only. The receive buffer is made large (SO_RCVBUFFORCE)
so that a stalled interpreter (TCG) loses nothing to a full socket.
"""

import os
import select
import socket
import struct
import sys
import time

FMT = "!III"


def main():
    local, peer, port, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)	# SO_RCVBUFFORCE
    s.bind((local, port))
    s.setblocking(False)
    interval = 1.0 / rate
    run = None	# the run on, while sending
    cur_run = None	# the run reported by stop
    phase = seq = 0
    sent = {}
    seen = {}	# (run, phase) -> set of seqs (the peer may start first)
    dup = {}
    other = 0	# malformed
    due = 0.0
    buf = b""

    def receive():
        nonlocal other
        while True:
            try:
                data = s.recv(2048)
            except BlockingIOError:
                return
            if len(data) < struct.calcsize(FMT):
                other += 1
                continue
            r, ph, sq = struct.unpack_from(FMT, data)
            key = (r, ph)
            got = seen.setdefault(key, set())
            if sq in got:
                dup[key] = dup.get(key, 0) + 1
            got.add(sq)

    def reply(text):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    reply("ready")
    while True:
        now = time.monotonic()
        if run is not None and now >= due:
            try:
                s.sendto(struct.pack(FMT, run, phase, seq), (peer, port))
            except OSError:
                pass	# counted sent all the same: it did not arrive
            sent[phase] = sent.get(phase, 0) + 1
            seq += 1
            # steady: the next one an interval after this one was due,
            # no burst to catch up after a stall
            due = max(due + interval, now)
            # (on to the select, which returns at once when the next one
            # is due already: a send slower than the interval, as under
            # a debug kernel, must not starve the commands and the
            # receive)
        timeout = (max(0.0, due - time.monotonic()) if run is not None
                   else None)
        r, _, _ = select.select([s, 0], [], [], timeout)
        if s in r:
            receive()
        if 0 not in r:
            continue
        chunk = os.read(0, 4096)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            words = line.decode().split()
            if words[:1] == ["go"]:
                run = cur_run = int(words[1])
                phase = seq = 0
                sent = {}
                due = time.monotonic()
                reply("ok")
            elif words[:1] == ["phase"]:
                phase = int(words[1])
                reply("ok")
            elif words[:1] == ["stop"]:
                run = None
                end = time.monotonic() + 5
                quiet = time.monotonic() + 1
                while time.monotonic() < min(end, quiet):
                    r, _, _ = select.select([s], [], [], 0.05)
                    if r:
                        receive()
                        quiet = time.monotonic() + 1
                n = max(list(sent) + [k[1] for k in seen
                                      if k[0] == cur_run] + [0]) + 1
                reply("sent %s;recv %s;dup %s;other %d" % (
                    " ".join(str(sent.get(p, 0)) for p in range(n)),
                    " ".join(str(len(seen.get((cur_run, p), ())))
                             for p in range(n)),
                    " ".join(str(dup.get((cur_run, p), 0))
                             for p in range(n)),
                    other))
            else:
                reply("? " + line.decode())


if __name__ == "__main__":
    main()
