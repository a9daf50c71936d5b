#!/bin/sh
# Builds the guest images from their sources (needs GNU as, ld and objcopy): ./build.sh [output folder]
set -e
cd "$(dirname "$0")"
out="${1:-.}"
build() { # name source [as options]
  name="$1"
  src="$2"
  shift 2
  as --32 "$@" -o "$out/$name.o" "$src"
  ld -m elf_i386 -nostdlib --build-id=none --no-warn-rwx-segments -T multiboot.ld -o "$out/$name.elf" "$out/$name.o"
  strip --strip-all "$out/$name.elf"
  rm -f "$out/$name.o"
}
build multiboot-hello multiboot-hello.S
build multiboot-info multiboot-info.S
build multiboot-info-aout multiboot-info.S --defsym AOUT=1
objcopy -O binary "$out/multiboot-info-aout.elf" "$out/multiboot-info-aout.bin"
rm -f "$out/multiboot-info-aout.elf"
as --32 -o "$out/linux-setup-info.o" linux-setup-info.S
ld -m elf_i386 --build-id=none -T flat.ld -o "$out/linux-setup-info.elf" "$out/linux-setup-info.o"
objcopy -O binary "$out/linux-setup-info.elf" "$out/linux-setup-info.bin"
rm -f "$out/linux-setup-info.o" "$out/linux-setup-info.elf"
