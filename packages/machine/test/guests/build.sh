#!/bin/sh
# Builds the guest images from their sources (run from this folder; needs GNU as and ld).
set -e
cd "$(dirname "$0")"
out="${1:-.}"
as --32 -o "$out/multiboot-hello.o" multiboot-hello.S
ld -m elf_i386 -nostdlib --build-id=none --no-warn-rwx-segments -T multiboot-hello.ld -o "$out/multiboot-hello.elf" "$out/multiboot-hello.o"
strip --strip-all "$out/multiboot-hello.elf"
rm -f "$out/multiboot-hello.o"
