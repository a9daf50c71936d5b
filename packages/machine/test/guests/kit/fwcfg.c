/* (f) fw_cfg: the "QEMU" signature, the interface ID, the CPU count and the RAM size. */
#include "rt.h"

static void fw_select(uint16_t key) { outw(0x510, key); }

static uint32_t fw_read32(void) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)inb(0x511) << (8 * i);
  return v;
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  char sig[5] = {0};
  fw_select(0x0000);
  for (int i = 0; i < 4; i++) sig[i] = (char)inb(0x511);
  puts("fw_cfg: signature ");
  puts(sig);
  putc('\n');
  check(memeq(sig, "QEMU", 4), "no QEMU signature");
  fw_select(0x0001);
  check(fw_read32() & 1, "ID lacks the traditional interface");
  fw_select(0x0005);
  uint32_t cpus = fw_read32() & 0xffff;
  puts("fw_cfg: ");
  putdec(cpus);
  puts(" cpu\n");
  check(cpus == 1, "not one CPU");
  fw_select(0x0003);
  uint32_t ram_lo = fw_read32(), ram_hi = fw_read32();
  puts("fw_cfg: RAM ");
  putdec(ram_lo >> 20);
  puts(" MiB\n");
  check(ram_hi == 0 && ram_lo >= (mbi->mem_upper + 1024) * 1024, "RAM size below what multiboot reports");
  fw_select(0x0014);
  uint32_t cmdline_size = fw_read32();
  puts("fw_cfg: command line size ");
  putdec(cmdline_size);
  putc('\n');
  pass();
}
