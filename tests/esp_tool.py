#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
esp_tool.py IFACE PCAP CMD...: re-send captured ESP or AH frames, as they
are or altered, on IFACE (an AF_PACKET socket of the namespace it runs in).

PCAP is a libpcap file of Ethernet frames (tcpdump -w); its IPv4 ESP and AH
frames are numbered from 0 in capture order. "The header" is the ESP or AH
header; AH's SPI and sequence number follow its first 4 bytes. Commands,
run in order, one output line each:

  seqs                  the sequence numbers of the frames, in order
  send:I[,J...]         send frames I, J, ... unchanged
  flip:I:OFF            frame I with bit 0 of the header's byte OFF
                        inverted (ESP: OFF counts from the SPI; 16 is the
                        first ciphertext byte with an 8-byte IV)
  set:I:OFF:BYTE        frame I with the header's byte OFF set to BYTE
  ip:I:OFF:BYTE[:...]   frame I with IP header byte OFF set to BYTE, and
                        more pairs; the IP checksum fixed
  spi:I:SPI             frame I with its SPI replaced
  trunc:I:LEN           frame I cut to LEN bytes of ESP or AH (IP total
                        length and checksum fixed)
  src:I:ADDR            frame I from another IPv4 source address (IP
                        checksum fixed)
  flood:I:N:SEQ         frame I N times with the sequence numbers SEQ,
                        SEQ + 1, ...: the ICV no longer fits (the number
                        is authenticated), the replay window lets them
                        in; prints how many the link took (errors, such
                        as the link going away, are counted, not raised);
                        "flooding" first, once the socket is bound
  sleep:S               wait S seconds

No scapy: the frames are bytes, which keeps the start-up (TCG) short and
the packets exactly what the capture held.
"""

import socket
import struct
import sys
import time


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit("%s: not a pcap file" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit("%s: link type %d, not Ethernet" % (path, linktype))
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def esp_frames(frames):
    out = []
    for f in frames:
        if len(f) < 34 or f[12:14] != b"\x08\x00" or f[14 + 9] not in (50, 51):
            continue
        out.append(bytearray(f))
    return out


def ihl(frame):
    return (frame[14] & 0x0F) * 4


def spi_off(frame):
    """The SPI's offset in the frame: ESP's first, AH's after 4 bytes."""
    return 14 + ihl(frame) + (4 if frame[14 + 9] == 51 else 0)


def ip_checksum(frame):
    h = ihl(frame)
    frame[24:26] = b"\0\0"
    s = sum(struct.unpack("!%dH" % (h // 2), bytes(frame[14:14 + h])))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    frame[24:26] = struct.pack("!H", ~s & 0xFFFF)


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    iface, pcap, cmds = sys.argv[1], sys.argv[2], sys.argv[3:]
    frames = esp_frames(read_pcap(pcap))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))

    def frame(i):
        return bytearray(frames[int(i)])

    for cmd in cmds:
        op, *args = cmd.split(":")
        if op == "seqs":
            print(" ".join(str(struct.unpack("!I", f[spi_off(f) + 4:
                                                     spi_off(f) + 8])[0])
                           for f in frames))
        elif op == "send":
            idx = args[0].split(",")
            for i in idx:
                sock.send(frame(i))
            print("sent %d" % len(idx))
        elif op == "flip":
            f = frame(args[0])
            f[14 + ihl(f) + int(args[1])] ^= 1
            sock.send(f)
            print("sent 1 with a bit flipped")
        elif op == "set":
            f = frame(args[0])
            f[14 + ihl(f) + int(args[1])] = int(args[2], 0)
            sock.send(f)
            print("sent 1 with byte %s set to %s" % (args[1], args[2]))
        elif op == "ip":
            f = frame(args[0])
            for off, val in zip(args[1::2], args[2::2]):
                f[14 + int(off)] = int(val, 0)
            ip_checksum(f)
            sock.send(f)
            print("sent 1 with IP header bytes set")
        elif op == "spi":
            f = frame(args[0])
            o = spi_off(f)
            f[o:o + 4] = struct.pack("!I", int(args[1], 0))
            sock.send(f)
            print("sent 1 with SPI %s" % args[1])
        elif op == "trunc":
            f = frame(args[0])
            h = ihl(f)
            f = f[:14 + h + int(args[1])]
            f[16:18] = struct.pack("!H", h + int(args[1]))
            ip_checksum(f)
            sock.send(f)
            print("sent 1 of %d bytes of ESP or AH" % int(args[1]))
        elif op == "src":
            f = frame(args[0])
            f[26:30] = socket.inet_aton(args[1])
            ip_checksum(f)
            sock.send(f)
            print("sent 1 from %s" % args[1])
        elif op == "flood":
            f = frame(args[0])
            o = spi_off(f) + 4
            sent = 0
            print("flooding", flush=True)
            for seq in range(int(args[2], 0), int(args[2], 0) + int(args[1])):
                f[o:o + 4] = struct.pack("!I", seq)
                try:
                    sock.send(f)
                    sent += 1
                except OSError:
                    pass
            print("sent %d" % sent)
        elif op == "sleep":
            time.sleep(float(args[0]))
            print("slept")
        else:
            raise SystemExit("unknown command %r" % cmd)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
