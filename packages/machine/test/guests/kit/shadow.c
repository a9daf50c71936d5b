/* (s) When a pending maskable interrupt is taken (SDM vol. 3, 6.8.3 and STI in vol. 2): IRQ5 of
 * pc-testdev is raised with IF clear, then IF is set by STI (the interrupt comes after the one
 * instruction that follows), by POPF and by IRET (right after them: no shadow); STI; HLT wakes at
 * once and returns after the HLT. The handler records the return EIP and which of the
 * instructions that followed had run. Each case runs 100 times (hot code in an emulator that
 * compiles it). */
#include "rt.h"

uint32_t seen_eip, seen_a, seen_b, irq_count;
volatile uint32_t a, b;
void irq5_stub(void);
void sti_run(void), popf_run(void), iret_run(void), hlt_run(void);
extern const char sti_after1[], popf_after[], iret_after[], hlt_after[];

__asm__(".pushsection .text\n"
        ".globl irq5_stub\n"
        "irq5_stub:\n"
        "  push %eax\n  push %edx\n"
        "  mov 8(%esp), %eax\n  mov %eax, seen_eip\n"
        "  mov a, %eax\n  mov %eax, seen_a\n"
        "  mov b, %eax\n  mov %eax, seen_b\n"
        "  incl irq_count\n"
        "  mov $0x2005, %dx\n  xor %al, %al\n  out %al, %dx\n" /* lower IRQ5 */
        "  mov $0x20, %al\n  out %al, $0x20\n"                 /* EOI */
        "  pop %edx\n  pop %eax\n"
        "  iret\n"
        ".globl sti_run, popf_run, iret_run, hlt_run, sti_after1, popf_after, iret_after, hlt_after\n"
        "sti_run:\n"
        "  sti\n"
        "  incl a\n"
        "sti_after1:\n"
        "  incl b\n"
        "  cli\n"
        "  ret\n"
        "popf_run:\n"
        "  pushf\n  orl $0x200, (%esp)\n"
        "  popf\n"
        "popf_after:\n"
        "  incl a\n"
        "  cli\n"
        "  ret\n"
        "iret_run:\n"
        "  pushf\n  orl $0x200, (%esp)\n  push %cs\n  push $iret_after\n"
        "  iret\n"
        "iret_after:\n"
        "  incl a\n"
        "  cli\n"
        "  ret\n"
        "hlt_run:\n"
        "  sti\n"
        "  hlt\n"
        "hlt_after:\n"
        "  cli\n"
        "  ret\n"
        ".popsection\n");

static void raise_irq5(void) {
  a = 0;
  b = 0;
  seen_eip = 0;
  outb(0x2000 + 5, 1);
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  idt_install_exceptions();
  idt_set(0x25, irq5_stub);
  idt_load();
  pic_init(1 << 5);

  for (uint32_t i = 1; i <= 100; i++) {
    raise_irq5();
    sti_run();
    check(irq_count == i && seen_eip == (uint32_t)sti_after1 && seen_a == 1 && seen_b == 0,
          "STI: the interrupt not taken after exactly one more instruction");
  }
  puts("shadow: STI with IRQ5 pending: the interrupt came after the one instruction that follows STI\n");

  for (uint32_t i = 101; i <= 200; i++) {
    raise_irq5();
    popf_run();
    check(irq_count == i && seen_eip == (uint32_t)popf_after && seen_a == 0, "POPF: the interrupt not right after it");
  }
  puts("shadow: POPF setting IF: the interrupt came right after the POPF\n");

  for (uint32_t i = 201; i <= 300; i++) {
    raise_irq5();
    iret_run();
    check(irq_count == i && seen_eip == (uint32_t)iret_after && seen_a == 0, "IRET: the interrupt not right after it");
  }
  puts("shadow: IRET setting IF: the interrupt came right after the IRET\n");

  for (uint32_t i = 301; i <= 400; i++) {
    raise_irq5();
    hlt_run();
    check(irq_count == i && seen_eip == (uint32_t)hlt_after, "STI; HLT: not woken, or not returning after the HLT");
  }
  puts("shadow: STI; HLT with IRQ5 pending: the HLT woke at once, the interrupt returned after it\n");
  pass();
}
