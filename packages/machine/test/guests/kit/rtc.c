/* (c) RTC/CMOS: BCD date registers, the update-ended interrupt on IRQ8 (through the cascade), UIP. */
#include "rt.h"

static volatile uint32_t updates;

static uint8_t cmos(uint8_t reg) {
  outb(0x70, reg);
  return inb(0x71);
}

static void cmos_write(uint8_t reg, uint8_t v) {
  outb(0x70, reg);
  outb(0x71, v);
}

void irq_dispatch(int irq) {
  if (irq == 8 && (cmos(0x0c) & 0x10)) updates++; /* reading C acknowledges */
  pic_eoi(irq);
}

static int bcd_ok(uint8_t v, int max) {
  return (v & 0x0f) <= 9 && (v >> 4) <= 9 && ((v >> 4) * 10 + (v & 0x0f)) <= max;
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  check((cmos(0x0b) & 0x04) == 0, "RTC is not in BCD mode");
  check(bcd_ok(cmos(0x00), 59) && bcd_ok(cmos(0x02), 59) && bcd_ok(cmos(0x04), 23), "bad BCD time");
  check(bcd_ok(cmos(0x07), 31) && bcd_ok(cmos(0x08), 12) && bcd_ok(cmos(0x09), 99), "bad BCD date");
  puts("RTC: BCD time and date valid\n");
  idt_install_exceptions();
  idt_set(0x28, irq8_stub);
  idt_load();
  pic_init((1 << 2) | (1 << 8));
  cmos(0x0c);
  cmos_write(0x0b, cmos(0x0b) | 0x10); /* UIE */
  __asm__ volatile("sti");
  while (updates < 2) __asm__ volatile("hlt");
  __asm__ volatile("cli");
  /* Just after an update, the next one is almost a second away: UIP must read 0. */
  check((cmos(0x0a) & 0x80) == 0, "UIP set right after an update");
  puts("RTC: 2 update-ended interrupts on IRQ8, UIP clear after the update\n");
  cmos_write(0x0b, cmos(0x0b) & ~0x10);
  pass();
}
