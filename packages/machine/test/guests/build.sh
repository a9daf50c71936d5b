#!/bin/sh
# Builds the guest images from their sources (needs GNU as and ld): ./build.sh [output folder]
set -e
cd "$(dirname "$0")"
out="${1:-.}"
for guest in multiboot-hello multiboot-info; do
  as --32 -o "$out/$guest.o" "$guest.S"
  ld -m elf_i386 -nostdlib --build-id=none --no-warn-rwx-segments -T multiboot.ld -o "$out/$guest.elf" "$out/$guest.o"
  strip --strip-all "$out/$guest.elf"
  rm -f "$out/$guest.o"
done
