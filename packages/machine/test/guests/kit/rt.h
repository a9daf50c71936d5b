/* The guest kit's small runtime: port I/O, COM1 output, numbers, exit through isa-debug-exit. */
#ifndef RT_H
#define RT_H
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

void serial_init(void);
void putc(char c);
void puts(const char *s);
void puthex(uint32_t v, int digits);
void putdec(uint32_t v);
int memeq(const void *a, const void *b, uint32_t n);
/* Prints "PASS\n" and exits with isa-debug-exit value 0 (status 1). */
void pass(void) __attribute__((noreturn));
/* Prints "FAIL: why\n" and exits with isa-debug-exit value 1 (status 3). */
void fail(const char *why) __attribute__((noreturn));
/* Fails with `why` unless `ok`. */
void check(int ok, const char *why);

/* 32-bit IDT: install `handler` (an assembly stub) as an interrupt gate for `vector`. */
void idt_set(int vector, void (*handler)(void));
void idt_load(void);
/* Every vector 0-31 goes to a stub that reports the exception and fails. */
void idt_install_exceptions(void);
/* Remaps the 8259A pair to vectors 0x20/0x28 with every IRQ masked but those in `unmasked`. */
void pic_init(uint16_t unmasked);
void pic_eoi(int irq);

/* Multiboot information (the fields the tests read). */
struct multiboot_info {
  uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
};

/* The test's entry: called by start.S with the multiboot magic and info. */
void test_main(uint32_t magic, struct multiboot_info *mbi);

/* IRQ stubs (start.S) calling irq_dispatch(irq), which the test defines (default: EOI only). */
void irq0_stub(void);
void irq8_stub(void);
void irq_dispatch(int irq);
#endif
