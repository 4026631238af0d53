#!/usr/bin/env python3
"""Craft DHCPv4 client messages for recording server logs (dhcplens logs fixtures).

Run only inside a network namespace created by record.sh. Standard library only.

  craft.py discover --mac M --xid X [--secs S] [--giaddr G] [--dst D] [--wait N]
  craft.py request  --mac M --xid X --ip A [--server-id S] [--ciaddr C] [--wait N]
  craft.py decline  --mac M --xid X --ip A --server-id S
  craft.py dora     --mac M --xid X [--decline]      (DISCOVER, OFFER, REQUEST, ACK[, DECLINE])
  craft.py short    --dst D                           (a 100-byte truncated BOOTREQUEST)
  craft.py badopt   --dst D                           (a DISCOVER whose last option overruns)

Options common to all: --client-id HEX (option 61), --vendor STR (option 60), --src IP,
--opt CODE:HEX or CODE:=TEXT (extra options), --no-type (no option 53: BOOTP).
  craft.py badsum   --iface I --count N               (N OFFER-like frames with a wrong UDP checksum)

Prints one line per reply seen: TYPE yiaddr=... server-id=...
"""
import argparse
import socket
import struct
import sys
import time

TYPES = {"discover": 1, "offer": 2, "request": 3, "decline": 4, "ack": 5, "nak": 6, "release": 7}
NAMES = {v: k.upper() for k, v in TYPES.items()}


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def build(msgtype, mac, xid, secs=0, flags=0x8000, ciaddr="0.0.0.0", giaddr="0.0.0.0",
          requested=None, server_id=None, client_id=None, vendor=None, hops=0, extra=()):
    chaddr = mac_bytes(mac)
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s",
                      1, 1, 6, hops, xid, secs, flags,
                      socket.inet_aton(ciaddr), b"\0" * 4, b"\0" * 4,
                      socket.inet_aton(giaddr), chaddr.ljust(16, b"\0"), b"", b"")
    opts = bytes([99, 130, 83, 99])
    if msgtype is not None:
        opts += bytes([53, 1, msgtype])
    if client_id:
        cid = bytes.fromhex(client_id)
        opts += bytes([61, len(cid)]) + cid
    if requested:
        opts += bytes([50, 4]) + socket.inet_aton(requested)
    if server_id:
        opts += bytes([54, 4]) + socket.inet_aton(server_id)
    if vendor:
        v = vendor.encode()
        opts += bytes([60, len(v)]) + v
    for code, data in extra:
        opts += bytes([code, len(data)]) + data
    opts += bytes([55, 3, 1, 3, 6, 255])
    msg = hdr + opts
    return msg.ljust(300, b"\0")


def parse_reply(data):
    if len(data) < 240:
        return None
    xid = struct.unpack("!I", data[4:8])[0]
    yiaddr = socket.inet_ntoa(data[16:20])
    i, mtype, sid = 240, None, None
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        if i + 1 >= len(data):
            break
        code, ln = data[i], data[i + 1]
        val = data[i + 2:i + 2 + ln]
        if code == 53 and ln == 1:
            mtype = val[0]
        elif code == 54 and ln == 4:
            sid = socket.inet_ntoa(val)
        i += 2 + ln
    return xid, mtype, yiaddr, sid


def sock(src, port, iface="c0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind((src, port))
    return s


def exchange(a, msg, wait, want=None):
    """Send msg; wait up to `wait` s for a reply with the same xid (and a wanted type)."""
    s = sock("0.0.0.0", a.sport, a.iface)
    dst = (a.dst, 67)
    s.sendto(msg, dst)
    xid = struct.unpack("!I", msg[4:8])[0]
    deadline = time.monotonic() + wait
    while wait > 0:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, _ = s.recvfrom(4096)
        except socket.timeout:
            break
        r = parse_reply(data)
        if r and r[0] == xid and r[1] not in (1, 3, 4, 7):
            print(f"{NAMES.get(r[1], r[1])} yiaddr={r[2]} server-id={r[3]}", flush=True)
            if want is None or r[1] in want:
                s.close()
                return r
    s.close()
    return None


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def badsum(a):
    """Broadcast OFFER-shaped frames whose UDP checksum is wrong, over AF_PACKET."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    src_mac = s.getsockname()[4]
    payload = build(2, a.mac, a.xid)
    payload = bytes([2]) + payload[1:]
    udp_len = 8 + len(payload)
    udp = struct.pack("!HHHH", 67, 68, udp_len, 0x1234) + payload  # deliberately wrong
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 1, 0, 64, 17, 0,
                     socket.inet_aton(a.src or "10.77.0.1"), socket.inet_aton("255.255.255.255"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    frame = b"\xff" * 6 + src_mac + b"\x08\x00" + ip + udp
    for _ in range(a.count):
        s.send(frame)
    s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd")
    p.add_argument("--mac", default="02:00:00:00:00:01")
    p.add_argument("--xid", type=lambda x: int(x, 0), default=0x11223344)
    p.add_argument("--secs", type=int, default=0)
    p.add_argument("--flags", type=lambda x: int(x, 0), default=0x8000)
    p.add_argument("--giaddr", default="0.0.0.0")
    p.add_argument("--ciaddr", default="0.0.0.0")
    p.add_argument("--ip")
    p.add_argument("--server-id")
    p.add_argument("--client-id")
    p.add_argument("--vendor")
    p.add_argument("--dst", default="255.255.255.255")
    p.add_argument("--src")
    p.add_argument("--sport", type=int, default=68)
    p.add_argument("--wait", type=float, default=0)
    p.add_argument("--decline", action="store_true")
    p.add_argument("--iface", default="c0")
    p.add_argument("--count", type=int, default=6)
    p.add_argument("--opt", action="append", default=[],
                   help="CODE:HEX, an extra option (repeatable); CODE:=TEXT for text")
    p.add_argument("--no-type", action="store_true", help="leave out option 53 (BOOTP)")
    a = p.parse_args()
    extra = []
    for o in a.opt:
        code, val = o.split(":", 1)
        extra.append((int(code), val[1:].encode() if val.startswith("=") else bytes.fromhex(val)))
    common = dict(client_id=a.client_id, vendor=a.vendor, extra=extra)
    hops = 1 if a.giaddr != "0.0.0.0" else 0
    if a.giaddr != "0.0.0.0":
        a.sport = 67  # a relay speaks from port 67
    if a.cmd == "discover":
        m = build(None if a.no_type else 1, a.mac, a.xid, a.secs, a.flags, giaddr=a.giaddr, requested=a.ip, hops=hops, **common)
        exchange(a, m, a.wait, want={2})
    elif a.cmd == "request":
        m = build(3, a.mac, a.xid, a.secs, a.flags, ciaddr=a.ciaddr, giaddr=a.giaddr,
                  requested=a.ip, server_id=a.server_id, hops=hops, **common)
        exchange(a, m, a.wait, want={5, 6})
    elif a.cmd == "decline":
        m = build(4, a.mac, a.xid, requested=a.ip, server_id=a.server_id, **common)
        exchange(a, m, 0)
    elif a.cmd == "dora":
        wait = a.wait or 5
        r = exchange(a, build(1, a.mac, a.xid, a.secs, **common), wait, want={2})
        if not r:
            sys.exit("no OFFER")
        _, _, yiaddr, sid = r
        r = exchange(a, build(3, a.mac, a.xid, a.secs, requested=yiaddr, server_id=sid, **common),
                     wait, want={5, 6})
        if not r or r[1] != 5:
            sys.exit("no ACK")
        if a.decline:
            exchange(a, build(4, a.mac, a.xid + 1, requested=yiaddr, server_id=sid, **common), 0)
    elif a.cmd == "short":
        m = build(1, a.mac, a.xid)[:100]
        s = sock("0.0.0.0", a.sport, a.iface)
        s.sendto(m, (a.dst, 67))
    elif a.cmd == "badopt":
        # A DISCOVER whose option 12 claims more bytes than the packet holds.
        m = build(1, a.mac, a.xid)
        end = m.index(bytes([55, 3, 1, 3, 6, 255]))
        m = m[:end] + bytes([12, 200]) + b"host"
        s = sock("0.0.0.0", a.sport, a.iface)
        s.sendto(m, (a.dst, 67))
    elif a.cmd == "badsum":
        badsum(a)
    else:
        sys.exit(f"unknown command {a.cmd}")


if __name__ == "__main__":
    main()
