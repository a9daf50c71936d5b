/* (h) The I/O APIC and the local APIC: the PIT on I/O APIC pin 2 (IRQ0's MADT override) as vector
 * 0x30, the 8259A masked and LINT0 masked, EOIs to the local APIC. */
#include "rt.h"

#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u

static volatile uint32_t ticks;

static uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC + reg) = v; }

static uint32_t ioapic_read(uint32_t reg) {
  *(volatile uint32_t *)IOAPIC = reg;
  return *(volatile uint32_t *)(IOAPIC + 0x10);
}

static void ioapic_write(uint32_t reg, uint32_t v) {
  *(volatile uint32_t *)IOAPIC = reg;
  *(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

/* irq0_stub is installed at vector 0x30: the interrupt comes from the I/O APIC. */
void irq_dispatch(int irq) {
  (void)irq;
  ticks++;
  lapic_write(0xb0, 0); /* EOI */
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  idt_install_exceptions();
  idt_set(0x30, irq0_stub);
  idt_load();
  pic_init(0); /* every 8259A input masked */
  uint32_t pins = ((ioapic_read(0x01) >> 16) & 0xff) + 1;
  puts("I/O APIC: ");
  putdec(pins);
  puts(" pins\n");
  check(pins == 24, "not 24 redirection entries");
  lapic_write(0xf0, 0x1ff);     /* software-enable, spurious vector 0xFF */
  lapic_write(0x350, 0x10000);  /* LINT0 masked: no ExtINT from the 8259A */
  lapic_write(0x80, 0);         /* TPR 0 */
  uint32_t id = lapic_read(0x20) >> 24;
  ioapic_write(0x10 + 2 * 2 + 1, id << 24);
  ioapic_write(0x10 + 2 * 2, 0x30); /* fixed, physical, edge, active high, unmasked */
  outb(0x43, 0x34);
  outb(0x40, 11932 & 0xff);
  outb(0x40, 11932 >> 8);
  __asm__ volatile("sti");
  while (ticks < 10) __asm__ volatile("hlt");
  __asm__ volatile("cli");
  ioapic_write(0x10 + 2 * 2, 0x10030); /* masked again */
  check((lapic_read(0x110) & (1u << 16)) == 0, "vector 0x30 still in service after EOI");
  puts("I/O APIC: 10 PIT ticks on pin 2 as vector 0x30, EOI to the local APIC\n");
  pass();
}
