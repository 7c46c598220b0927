#!/usr/bin/env python3
"""Writes the initramfs of rrvm's Linux guest: an uncompressed newc cpio.

  initramfs.py OUT INIT BUSYBOX

holds INIT as /init, BUSYBOX (a static busybox: Debian's busybox-static)
as /bin/busybox and /bin/sh, the mount points /proc, /sys, /dev, /tmp, and
/dev/console (char 5:1), which the kernel opens for init before anything is
mounted. Every file has mtime 0 and uid/gid 0, so the archive's bytes (and
the trace header's SHA-256 of it) depend only on the inputs.
"""
import os
import stat
import sys


def entry(ino, name, mode, data=b"", rdev=(0, 0), nlink=1):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = head + name_b
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out, init, busybox = sys.argv[1:]
    with open(init, "rb") as f:
        init_data = f.read()
    with open(busybox, "rb") as f:
        busybox_data = f.read()
    items = [
        ("bin", stat.S_IFDIR | 0o755, b"", (0, 0)),
        ("dev", stat.S_IFDIR | 0o755, b"", (0, 0)),
        ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
        ("proc", stat.S_IFDIR | 0o555, b"", (0, 0)),
        ("sys", stat.S_IFDIR | 0o555, b"", (0, 0)),
        ("tmp", stat.S_IFDIR | 0o1777, b"", (0, 0)),
        ("init", stat.S_IFREG | 0o755, init_data, (0, 0)),
        ("bin/busybox", stat.S_IFREG | 0o755, busybox_data, (0, 0)),
        ("bin/sh", stat.S_IFLNK | 0o777, b"busybox", (0, 0)),
    ]
    blob = b"".join(entry(i + 1, n, m, d, r) for i, (n, m, d, r) in enumerate(items))
    blob += entry(0, "TRAILER!!!", 0)
    blob += b"\0" * (-len(blob) % 512)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
