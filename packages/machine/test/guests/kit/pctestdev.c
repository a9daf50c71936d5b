/* (i) QEMU's pc-testdev: the scratch port 0xE0, the 64 KiB scratch memory at 0xFF000000, and an
 * IRQ raised through port 0x2000 + 5 reaching the 8259A (vector 0x25). */
#include "rt.h"

static volatile uint32_t irqs;

/* irq0_stub is installed at vector 0x25 (IRQ5 of the remapped master). */
void irq_dispatch(int irq) {
  (void)irq;
  irqs++;
  outb(0x2000 + 5, 0); /* lower the line */
  pic_eoi(5);
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  outl(0xe0, 0x12345678);
  check(inl(0xe0) == 0x12345678, "scratch port 0xE0 does not read back");
  puts("pc-testdev: port 0xE0 reads back 12345678\n");
  volatile uint32_t *iomem = (volatile uint32_t *)0xff000100u;
  iomem[0] = 0xdeadbeef;
  iomem[1] = 0x01020304;
  check(iomem[0] == 0xdeadbeef && iomem[1] == 0x01020304, "scratch memory does not read back");
  check(*(volatile uint8_t *)0xff000104u == 0x04, "scratch memory is not little-endian");
  puts("pc-testdev: scratch memory at 0xff000000 reads back\n");
  idt_install_exceptions();
  idt_set(0x25, irq0_stub);
  idt_load();
  pic_init(1 << 5);
  __asm__ volatile("sti");
  outb(0x2000 + 5, 1); /* raise IRQ5 */
  for (int i = 0; i < 1000 && irqs == 0; i++) __asm__ volatile("nop");
  __asm__ volatile("cli");
  check(irqs == 1, "IRQ5 from pc-testdev not taken once");
  puts("pc-testdev: IRQ5 raised through port 0x2005 taken as vector 0x25\n");
  pass();
}
