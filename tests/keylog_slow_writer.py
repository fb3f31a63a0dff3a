#!/usr/bin/env python3
"""keylog_slow_writer.py - replay a classic pcap to stdout the way a live
capture delivers it while a server writes its TLS key log: the first SPLIT
packets (the handshakes and the first encrypted records), a pause in which
fedtrace reads them without their secrets, then the key lines are appended
to KEYLOG (as the key-log library does moments after each handshake), a
pause longer than fedtrace's key-log re-read interval (100 ms) and than one
--stats-interval second, and the rest of the packets.

usage: keylog_slow_writer.py PCAP SPLIT KEYS-SOURCE KEYLOG > pipe

The pause: until the reader has taken every byte out of the pipe (FIONREAD
on stdout, when stdout is a pipe; at most 30 s), then half a second for it
to analyse them.
"""
import fcntl
import struct
import sys
import termios
import time


def packets(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit("not a classic pcap file")
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        out.append(data[off:off + 16 + caplen])
        off += 16 + caplen
    return data[:24], out


def main():
    pcap, split, source, keylog = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(pcap, "rb") as f:
        header, pkts = packets(f.read())
    out = sys.stdout.buffer
    out.write(header + b"".join(pkts[:split]))
    out.flush()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            left = struct.unpack("i", fcntl.ioctl(out.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
        except OSError:
            break  # not a pipe: the fixed pause only
        if left == 0:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    with open(source) as s, open(keylog, "a") as k:
        k.write(s.read())
    time.sleep(1.2)
    out.write(b"".join(pkts[split:]))
    out.flush()


if __name__ == "__main__":
    main()
