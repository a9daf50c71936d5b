/* (a) Hello over COM1 and the multiboot information: magic, mem_lower/upper, command line. */
#include "rt.h"

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  puts("hello from the guest kit\n");
  check(magic == 0x2badb002, "bad multiboot magic");
  check(mbi->flags & 1, "no memory information");
  /* Exact values differ between loaders (QEMU's option ROM reports SeaBIOS's reservations): check ranges. */
  check(mbi->mem_lower >= 600 && mbi->mem_lower <= 640, "mem_lower out of range");
  check(mbi->mem_upper >= 100 * 1024 && mbi->mem_upper <= 127 * 1024, "mem_upper is not about 127 MiB (-m 128)");
  puts("multiboot: mem_lower about 640 KiB, mem_upper about 127 MiB\n");
  check(mbi->flags & 4, "no command line");
  puts("cmdline: ");
  puts((const char *)mbi->cmdline);
  putc('\n');
  pass();
}
