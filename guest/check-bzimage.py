#!/usr/bin/env python3
"""Print and sanity-check the setup header of bzImages (test-guest builds).

Usage: guest/check-bzimage.py FILE...   (exit status 1 if a check fails)
"""
import struct
import sys

FIELDS = [  # (offset, struct format, name)
    (0x1f1, "B", "setup_sects"), (0x1f4, "I", "syssize"),
    (0x1fa, "H", "vid_mode"), (0x1fe, "H", "boot_flag"), (0x200, "H", "jump"),
    (0x202, "4s", "header"), (0x206, "H", "version"),
    (0x20e, "H", "kernel_version"), (0x211, "B", "loadflags"),
    (0x214, "I", "code32_start"), (0x22c, "I", "initrd_addr_max"),
    (0x230, "I", "kernel_alignment"), (0x234, "B", "relocatable_kernel"),
    (0x235, "B", "min_alignment"), (0x236, "H", "xloadflags"),
    (0x238, "I", "cmdline_size"), (0x258, "Q", "pref_address"),
    (0x260, "I", "init_size"), (0x268, "I", "kernel_info_offset"),
]


def check(path):
    data = open(path, "rb").read()
    h = {name: struct.unpack_from("<" + fmt, data, off)[0] for off, fmt, name in FIELDS}
    print(path)
    for _, fmt, name in FIELDS:
        v = h[name]
        print("  %-20s %s" % (name, v if isinstance(v, bytes) else hex(v)))
    setup = (h["setup_sects"] or 4) * 512 + 512
    pm = data[setup:]
    ver = data[0x200 + h["kernel_version"]:].split(b"\0")[0].decode()
    ki = h["kernel_info_offset"]
    errs = []
    if h["header"] != b"HdrS":
        errs.append("no HdrS")
    if h["boot_flag"] != 0xAA55:
        errs.append("boot_flag")
    if h["jump"] & 0xff != 0xeb or 0x202 + (h["jump"] >> 8) != 0x26c:
        errs.append("jump at 0x200 must skip the whole 2.15 header")
    if h["version"] != 0x020F:
        errs.append("version")
    if not h["loadflags"] & 1 or not h["xloadflags"] & 1:
        errs.append("LOADED_HIGH / XLF_KERNEL_64")
    if h["syssize"] * 16 != len(pm):
        errs.append("syssize %d*16 != %d bytes after setup" % (h["syssize"], len(pm)))
    if h["init_size"] < len(pm) or h["init_size"] % 4096:
        errs.append("init_size")
    if pm[ki:ki + 4] != b"LToP":
        errs.append("no kernel_info (LToP) at kernel_info_offset")
    if h["pref_address"] != 0x100000 or h["relocatable_kernel"] != 0:
        errs.append("pref_address / relocatable")
    print("  %-20s %r" % ("version string", ver))
    print("  %-20s %d bytes (setup), %d bytes (protected mode)" % ("size", setup, len(pm)))
    for e in errs:
        print("  ERROR: " + e)
    return not errs


if __name__ == "__main__":
    sys.exit(0 if all([check(p) for p in sys.argv[1:]]) else 1)
