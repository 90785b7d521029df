#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a bzImage + initramfs into an ELF32 image for SYSLINUX's elf.c32.

Emulated machines spend most of a bzImage boot decompressing the kernel.
This does that on the host: it takes the compressed vmlinux out of the
bzImage, and writes an ELF32 file whose segments elf.c32 copies to their
physical addresses:

  - one page with a trampoline, a struct hvm_start_info (version 1), the
    module list (the initramfs), an e820-style memory map and the kernel
    command line,
  - the PT_LOAD segments of vmlinux,
  - the initramfs.

elf.c32 enters the trampoline in flat 32-bit protected mode with paging
off, which is the PVH boot ABI except for %ebx; the trampoline loads %ebx
with the start info address and jumps to the kernel's PVH entry point
(the XEN_ELFNOTE_PHYS32_ENTRY note).

The memory map must describe the machine it runs on: the default is the
map the Bochs BIOS reports for a machine with --mem-mib of RAM.
"""

import argparse
import lzma
import os
import struct
import subprocess
import sys
import zlib

PAGE = 4096
MIB = 1 << 20

HVM_START_MAGIC = 0x336EC578
XEN_ELFNOTE_PHYS32_ENTRY = 18
E820_RAM, E820_RESERVED, E820_ACPI = 1, 2, 3

# Layout of the info page.
OFF_CODE, OFF_INFO, OFF_MODS, OFF_MMAP, OFF_CMDLINE = 0, 0x40, 0x80, 0x100, 0x200


def die(msg):
    sys.exit("mkpvh: " + msg)


def bzimage_payload(data):
    """The compressed vmlinux inside a bzImage (boot protocol >= 2.08)."""
    if data[0x202:0x206] != b"HdrS":
        die("not a bzImage")
    setup_sects = data[0x1F1] or 4
    pm_start = (setup_sects + 1) * 512
    offset, length = struct.unpack_from("<II", data, 0x248)
    return data[pm_start + offset:pm_start + offset + length]


def decompress(payload):
    """Decompress the payload; kbuild appends the size as 4 bytes."""
    size = struct.unpack_from("<I", payload, len(payload) - 4)[0]
    if payload.startswith(b"\xfd7zXZ\x00"):
        out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        # gzip's own trailer ends with the size.
        out = zlib.decompressobj(wbits=31).decompress(payload)
    elif payload.startswith(b"\x28\xb5\x2f\xfd"):
        out = subprocess.run(["zstd", "-dcq"], input=payload[:-4],
                             stdout=subprocess.PIPE, check=True).stdout
    else:
        die("unknown kernel compression %r" % payload[:4])
    if len(out) != size:
        die("decompressed %d bytes, expected %d" % (len(out), size))
    return out


def vmlinux_of(bzimage, cache):
    """ELF64 vmlinux of a bzImage, cached in the file cache if given."""
    if cache and os.path.exists(cache) and \
            os.path.getmtime(cache) >= os.path.getmtime(bzimage):
        with open(cache, "rb") as f:
            return f.read()
    with open(bzimage, "rb") as f:
        elf = decompress(bzimage_payload(f.read()))
    if cache:
        tmp = "%s.%d" % (cache, os.getpid())
        with open(tmp, "wb") as f:
            f.write(elf)
        os.replace(tmp, cache)
    return elf


def parse_elf64(elf):
    """PT_LOAD segments (paddr, data, memsz) and the PVH entry point."""
    if elf[:5] != b"\x7fELF\x02":
        die("vmlinux is not ELF64")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    loads, entry = [], None
    for i in range(phnum):
        (p_type, _, p_off, _, p_paddr, p_filesz, p_memsz, _) = \
            struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type == 1:
            loads.append((p_paddr, elf[p_off:p_off + p_filesz], p_memsz))
        elif p_type == 4:
            entry = find_pvh_note(elf[p_off:p_off + p_filesz]) or entry
    if entry is None:
        die("vmlinux has no PVH entry note (CONFIG_PVH)")
    return sorted(loads), entry


def find_pvh_note(notes):
    pos = 0
    while pos + 12 <= len(notes):
        namesz, descsz, ntype = struct.unpack_from("<III", notes, pos)
        name = notes[pos + 12:pos + 12 + namesz]
        desc_at = pos + 12 + (namesz + 3) // 4 * 4
        if name == b"Xen\x00" and ntype == XEN_ELFNOTE_PHYS32_ENTRY:
            return int.from_bytes(notes[desc_at:desc_at + descsz],
                                  "little") & 0xFFFFFFFF
        pos = desc_at + (descsz + 3) // 4 * 4
    return None


def bochs_e820(mem):
    """The memory map the Bochs BIOS reports for mem bytes of RAM."""
    return [
        (0, 0x9F000, E820_RAM),
        (0x9F000, 0x1000, E820_RESERVED),
        (0xE8000, 0x18000, E820_RESERVED),
        (MIB, mem - MIB - 0x10000, E820_RAM),
        (mem - 0x10000, 0x10000, E820_ACPI),
        (0xFFFC0000, 0x40000, E820_RESERVED),
    ]


def info_page(base, entry, initrd_addr, initrd_size, mmap, cmdline):
    """Trampoline, hvm_start_info, module list, memory map, command line."""
    page = bytearray(PAGE)
    # cli; cld; mov $info, %ebx; mov $entry, %eax; jmp *%eax
    code = b"\xfa\xfc" + b"\xbb" + struct.pack("<I", base + OFF_INFO) + \
        b"\xb8" + struct.pack("<I", entry) + b"\xff\xe0"
    page[OFF_CODE:OFF_CODE + len(code)] = code
    struct.pack_into("<IIIIQQQQII", page, OFF_INFO,
                     HVM_START_MAGIC, 1, 0, 1,
                     base + OFF_MODS, base + OFF_CMDLINE, 0,
                     base + OFF_MMAP, len(mmap), 0)
    struct.pack_into("<QQQQ", page, OFF_MODS, initrd_addr, initrd_size, 0, 0)
    if len(mmap) * 24 > OFF_CMDLINE - OFF_MMAP:
        die("memory map too long")
    for i, (addr, size, typ) in enumerate(mmap):
        struct.pack_into("<QQII", page, OFF_MMAP + i * 24, addr, size, typ, 0)
    cmd = cmdline.encode() + b"\x00"
    if len(cmd) > PAGE - OFF_CMDLINE:
        die("command line too long")
    page[OFF_CMDLINE:OFF_CMDLINE + len(cmd)] = cmd
    return bytes(page)


def write_elf32(path, entry, segments):
    """segments: sorted list of (paddr, data, memsz)."""
    ehsize, phentsize = 52, 32
    off = ehsize + phentsize * len(segments)
    phdrs, blobs = b"", []
    for paddr, data, memsz in segments:
        off = (off + 15) & ~15
        blobs.append((off, data))
        # PT_LOAD, offset, vaddr, paddr, filesz, memsz, flags RWX, align
        phdrs += struct.pack("<IIIIIIII", 1, off, paddr, paddr, len(data),
                             memsz, 7, PAGE)
        off += len(data)
    ident = b"\x7fELF\x01\x01\x01" + bytes(9)
    # ET_EXEC, EM_386, EV_CURRENT
    hdr = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, ehsize, 0,
                              0, ehsize, phentsize, len(segments), 0, 0, 0)
    with open(path + ".tmp", "wb") as f:
        f.write(hdr + phdrs)
        for pos, data in blobs:
            f.seek(pos)
            f.write(data)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", required=True, help="bzImage (vmlinuz)")
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--mem-mib", type=int, default=1024,
                    help="RAM of the machine (MiB, at most 3072)")
    ap.add_argument("--vmlinux-cache", help="cache of the decompressed kernel")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()

    if not 256 <= args.mem_mib <= 3072:
        die("--mem-mib must be within 256..3072")
    mem = args.mem_mib * MIB
    loads, entry = parse_elf64(vmlinux_of(args.kernel, args.vmlinux_cache))
    with open(args.initrd, "rb") as f:
        initrd = f.read()

    kstart = loads[0][0]
    kend = max(paddr + memsz for paddr, _, memsz in loads)
    base = kstart - PAGE
    initrd_addr = max(128 * MIB, (kend + 2 * MIB - 1) & ~(2 * MIB - 1))
    if base < MIB or initrd_addr + len(initrd) > mem - 0x10000:
        die("kernel + initramfs do not fit in %d MiB" % args.mem_mib)

    page = info_page(base, entry, initrd_addr, len(initrd),
                     bochs_e820(mem), args.cmdline)
    segments = [(base, page, PAGE)] + loads + \
        [(initrd_addr, initrd, len(initrd))]
    write_elf32(args.output, base + OFF_CODE, segments)


if __name__ == "__main__":
    main()
