#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A key-exchange daemon's UDP socket, as far as the ESP-in-UDP tests need
one: it binds PORT (on every address of FAMILY 4 or 6), with -e sets
UDP_ENCAP_ESPINUDP on it as an IKE daemon does for Linux XFRM, says
"ready", and then

  - prints "got SRC SPORT HEX" for each datagram it receives;
  - on a line "send ADDR PORT HEX" on stdin, sends HEX (bytes) to
    ADDR:PORT from its socket, and prints "sent N";
  - on a line "quiet SECONDS", prints "quiet" if nothing arrived in that
    long, or the datagram that did;
  - ends with stdin.

  natt_sock.py [-e] FAMILY PORT
"""
import os
import select
import socket
import sys

UDP_ENCAP = 100
UDP_ENCAP_ESPINUDP = 2


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main():
    args = sys.argv[1:]
    encap = args[0] == "-e"
    if encap:
        args = args[1:]
    family = socket.AF_INET6 if args[0] == "6" else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:   # (an IPv4 socket may hold the port)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", int(args[1])))
    if encap:
        s.setsockopt(socket.IPPROTO_UDP, UDP_ENCAP, UDP_ENCAP_ESPINUDP)
    say("ready")
    stdin = sys.stdin.fileno()
    buf = b""
    while True:
        r, _, _ = select.select([s, stdin], [], [])
        if s in r:
            data, peer = s.recvfrom(65535)
            say("got %s %d %s" % (peer[0], peer[1], data.hex()))
        if stdin not in r:
            continue
        chunk = os.read(stdin, 65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            words = line.decode().split()
            if words[0] == "send":
                n = s.sendto(bytes.fromhex(words[3]),
                             (words[1], int(words[2])))
                say("sent %d" % n)
            elif words[0] == "quiet":
                r, _, _ = select.select([s], [], [], float(words[1]))
                if not r:
                    say("quiet")


if __name__ == "__main__":
    main()
