#!/usr/bin/env python3
"""Helpers for prepare.sh that need no kmod or cpio on the host.

  initramfs.py modules TREE OUT NAME...
      Copies the named modules of an unpacked kernel package (TREE is its
      lib/modules/<version>) and everything they depend on into OUT, and
      writes OUT/order: one "<file> <name>" line per module, dependencies
      first. Modules built into the kernel (modules.builtin) are skipped.
      Dependencies come from each .ko's own .modinfo section, because the
      package ships no modules.dep (depmod writes it at install time).

  initramfs.py vmlinux BZIMAGE OUT
      Unpacks the ELF kernel from an xz-compressed bzImage. QEMU boots the
      ELF through its PVH entry point, which skips the in-guest xz
      decompression that otherwise takes ~2.5 s of emulated time.

  initramfs.py cpio OUT INIT MODULES_DIR
      Writes an uncompressed newc cpio archive holding INIT as /init and
      the files of MODULES_DIR under /modules.
"""
import lzma
import os
import shutil
import struct
import sys


def module_name(path):
    base = os.path.basename(path)
    for suffix in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.replace("-", "_")


def modinfo_depends(ko_path):
    """Returns the module names in the 'depends=' entry of an ELF64 .ko."""
    with open(ko_path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        sys.exit(f"initramfs.py: {ko_path} is not an uncompressed ELF64 module")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(i):
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size

    _, names_off, _ = section(shstrndx)
    for i in range(shnum):
        name_idx, off, size = section(i)
        end = data.index(b"\0", names_off + name_idx)
        if data[names_off + name_idx:end] == b".modinfo":
            for entry in data[off:off + size].split(b"\0"):
                if entry.startswith(b"depends="):
                    deps = entry[len(b"depends="):].decode()
                    return [d.replace("-", "_") for d in deps.split(",") if d]
            return []
    sys.exit(f"initramfs.py: {ko_path} has no .modinfo section")


def select_modules(tree, out, wanted):
    paths = {}
    with open(os.path.join(tree, "modules.order")) as f:
        for line in f:
            rel = line.strip()
            if rel:
                paths[module_name(rel)] = rel
    builtin = set()
    with open(os.path.join(tree, "modules.builtin")) as f:
        for line in f:
            if line.strip():
                builtin.add(module_name(line.strip()))

    order, visiting = [], set()

    def visit(name):
        if name in builtin or name in order:
            return
        if name in visiting:
            sys.exit(f"initramfs.py: dependency cycle at module {name}")
        if name not in paths:
            sys.exit(f"initramfs.py: module {name} is not in {tree}/modules.order")
        visiting.add(name)
        for dep in modinfo_depends(os.path.join(tree, paths[name])):
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in wanted:
        visit(name.replace("-", "_"))

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "order"), "w") as f:
        for name in order:
            src = os.path.join(tree, paths[name])
            shutil.copyfile(src, os.path.join(out, os.path.basename(src)))
            f.write(f"{os.path.basename(src)} {name}\n")


def extract_vmlinux(bzimage, out):
    with open(bzimage, "rb") as f:
        data = f.read()
    start = data.find(b"\xfd7zXZ\x00")
    if start < 0:
        sys.exit(f"initramfs.py: no xz stream in {bzimage} (kernel not built with CONFIG_KERNEL_XZ?)")
    decoder = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    elf = decoder.decompress(data[start:])
    if not decoder.eof or elf[:4] != b"\x7fELF":
        sys.exit(f"initramfs.py: the xz stream in {bzimage} is not a whole ELF kernel")
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(elf)
    os.replace(tmp, out)


def write_cpio(out, init, modules_dir):
    entries = [("modules", 0o040755, b"")]
    with open(init, "rb") as f:
        entries.append(("init", 0o100755, f.read()))
    for name in sorted(os.listdir(modules_dir)):
        with open(os.path.join(modules_dir, name), "rb") as f:
            entries.append((f"modules/{name}", 0o100644, f.read()))
    # Mount points /init mounts on; the kernel's initramfs has no others.
    for d in ("proc", "sys", "dev", "root"):
        entries.append((d, 0o040755, b""))

    def pad4(buf):
        buf.extend(b"\0" * (-len(buf) % 4))

    archive = bytearray()
    for ino, (name, mode, body) in enumerate(entries + [("TRAILER!!!", 0, b"")], start=1):
        encoded = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(encoded), 0)
        archive += b"070701" + b"".join(b"%08X" % v for v in fields)
        archive += encoded
        pad4(archive)
        archive += body
        pad4(archive)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(archive)
    os.replace(tmp, out)


def main(argv):
    if len(argv) >= 4 and argv[1] == "modules":
        select_modules(argv[2], argv[3], argv[4:])
    elif len(argv) == 4 and argv[1] == "vmlinux":
        extract_vmlinux(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "cpio":
        write_cpio(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
