#include "rt.h"

#define COM1 0x3f8
#define DEBUG_EXIT 0xf4

void serial_init(void) {
  outb(COM1 + 1, 0x00); /* no interrupts */
  outb(COM1 + 3, 0x80); /* DLAB */
  outb(COM1 + 0, 0x01); /* 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03); /* 8N1 */
  outb(COM1 + 2, 0xc7); /* FIFOs on */
}

void putc(char c) {
  while ((inb(COM1 + 5) & 0x20) == 0) {
  }
  outb(COM1, (uint8_t)c);
}

void puts(const char *s) {
  while (*s) putc(*s++);
}

void puthex(uint32_t v, int digits) {
  for (int i = digits - 1; i >= 0; i--) putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

void putdec(uint32_t v) {
  char buf[12];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) putc(buf[--n]);
}

int memeq(const void *a, const void *b, uint32_t n) {
  const uint8_t *x = a, *y = b;
  for (uint32_t i = 0; i < n; i++)
    if (x[i] != y[i]) return 0;
  return 1;
}

__attribute__((noreturn)) static void guest_exit(uint8_t v) {
  outb(DEBUG_EXIT, v);
  for (;;) __asm__ volatile("cli; hlt");
}

void pass(void) {
  puts("PASS\n");
  guest_exit(0);
}

void fail(const char *why) {
  puts("FAIL: ");
  puts(why);
  putc('\n');
  guest_exit(1);
}

void check(int ok, const char *why) {
  if (!ok) fail(why);
}

struct idt_entry {
  uint16_t offset_lo, selector;
  uint8_t zero, type;
  uint16_t offset_hi;
} __attribute__((packed));

static struct idt_entry idt[256];

void idt_set(int vector, void (*handler)(void)) {
  uint32_t a = (uint32_t)handler;
  idt[vector].offset_lo = (uint16_t)a;
  idt[vector].selector = 0x08;
  idt[vector].zero = 0;
  idt[vector].type = 0x8e; /* present, DPL 0, 32-bit interrupt gate */
  idt[vector].offset_hi = (uint16_t)(a >> 16);
}

void idt_load(void) {
  struct {
    uint16_t limit;
    uint32_t base;
  } __attribute__((packed)) r = {sizeof idt - 1, (uint32_t)idt};
  __asm__ volatile("lidt %0" : : "m"(r));
}

extern void (*const exception_stubs[32])(void);

void idt_install_exceptions(void) {
  for (int v = 0; v < 32; v++) idt_set(v, exception_stubs[v]);
}

/* Called by the exception stubs. */
void exception_report(uint32_t vector, uint32_t error, uint32_t eip) {
  puts("exception ");
  putdec(vector);
  puts(" error ");
  puthex(error, 8);
  puts(" at ");
  puthex(eip, 8);
  putc('\n');
  fail("unexpected exception");
}

void pic_init(uint16_t unmasked) {
  outb(0x20, 0x11);
  outb(0xa0, 0x11);
  outb(0x21, 0x20);
  outb(0xa1, 0x28);
  outb(0x21, 0x04);
  outb(0xa1, 0x02);
  outb(0x21, 0x01);
  outb(0xa1, 0x01);
  outb(0x21, (uint8_t)~unmasked);
  outb(0xa1, (uint8_t)~(unmasked >> 8));
}

void pic_eoi(int irq) {
  if (irq >= 8) outb(0xa0, 0x20);
  outb(0x20, 0x20);
}

__attribute__((weak)) void irq_dispatch(int irq) { pic_eoi(irq); }
