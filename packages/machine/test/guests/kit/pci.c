/* (e) PCI enumeration through 0xCF8/0xCFC: the host bridge at 00:00.0 and pci-testdev. */
#include "rt.h"

static uint32_t pci_read(int dev, int fn, int reg) {
  outl(0xcf8, 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xfc));
  return inl(0xcfc);
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  uint32_t class0 = pci_read(0, 0, 0x08) >> 8;
  check(pci_read(0, 0, 0x00) != 0xffffffffu, "nothing at 00:00.0");
  puts("PCI: 00:00.0 class ");
  puthex(class0, 6);
  putc('\n');
  check(class0 == 0x060000, "00:00.0 is not a host bridge");
  int found = 0;
  for (int dev = 0; dev < 32; dev++) {
    uint32_t id = pci_read(dev, 0, 0x00);
    if (id == 0xffffffffu) continue;
    if (id == 0x00051b36u) {
      found++;
      uint32_t bar0 = pci_read(dev, 0, 0x10);
      check((bar0 & 1) == 0, "pci-testdev BAR0 is not memory");
      outl(0xcf8, 0x80000000u | (dev << 11) | 0x10);
      outl(0xcfc, 0xffffffffu);
      uint32_t size = ~(pci_read(dev, 0, 0x10) & ~0xfu) + 1;
      outl(0xcf8, 0x80000000u | (dev << 11) | 0x10);
      outl(0xcfc, bar0);
      puts("PCI: pci-testdev 1b36:0005, BAR0 ");
      putdec(size);
      puts(" bytes\n");
      check(size == 4096, "pci-testdev BAR0 is not 4 KiB");
    }
  }
  check(found == 1, "pci-testdev not found");
  pass();
}
