#!/usr/bin/env bash
# Installs the peer emulators the bench harness compares against, from Debian's packages:
# QEMU (software emulation), Bochs with its BIOS, VGA BIOS and terminal display, GNU time for
# peak memory, and nasm for rebuilding the workload images.
set -euo pipefail
if ! command -v apt-get >/dev/null; then
  echo "bench:peers: apt-get not found; install qemu-system-x86 and bochs by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
$sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 bochs bochsbios bochs-term vgabios nasm time util-linux
