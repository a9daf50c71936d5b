/* (b) The PIT's IRQ0 through the 8259A with our own IDT: count ten ticks of a 100 Hz timer. */
#include "rt.h"

static volatile uint32_t ticks;

void irq_dispatch(int irq) {
  if (irq == 0) ticks++;
  pic_eoi(irq);
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  idt_install_exceptions();
  idt_set(0x20, irq0_stub);
  idt_load();
  pic_init(1 << 0);
  /* Counter 0, lobyte/hibyte, mode 2 (rate generator), 1193182 / 11932 = 100 Hz. */
  outb(0x43, 0x34);
  outb(0x40, 11932 & 0xff);
  outb(0x40, 11932 >> 8);
  __asm__ volatile("sti");
  while (ticks < 10) __asm__ volatile("hlt");
  __asm__ volatile("cli");
  puts("PIT: ");
  putdec(ticks);
  puts(" ticks on IRQ0\n");
  /* Read back counter 0 with a latch: it must be within the programmed count. */
  outb(0x43, 0x00);
  uint32_t lo = inb(0x40), hi = inb(0x40);
  check(((hi << 8) | lo) <= 11932, "counter above its initial count");
  pass();
}
