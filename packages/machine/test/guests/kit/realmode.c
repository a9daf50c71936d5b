/* (o) Back to real mode and up again (SDM vol. 3, 9.9.2): from 32-bit protected mode through a
 * 16-bit code segment, CR0.PE cleared and a far JMP to real-mode code copied to 0800:0000. There,
 * with the IVT (IDTR base 0, limit 0x3FF): INT 0x30 to a handler that sees IP, CS and FLAGS on the
 * stack; #DE from DIV by 0 and #UD from UD2 through the IVT with IP at the faulting instruction;
 * segment arithmetic; IRQ5 of pc-testdev through the 8259A and the IVT; "big real mode": FS keeps the 4 GiB limit it was loaded with in protected
 * mode, so FS:[ESI] with ESI = 0x100000 reads the multiboot header. Then CR0.PE set and a far JMP
 * back to 32-bit code. */
#include "rt.h"
#include "sys.h"

#define SEL_CODE16 0x18
#define SEL_DATA16 0x20
#define RM_SEG 0x0800 /* the real-mode code and data: linear 0x8000 */

static uint64_t gdt[5];
static struct gate idt[256];
extern void (*const exception_stubs[32])(void);
void rm_run(void);
extern const char rm_base[], rm_end[], rm_after_int30[], rm_div[], rm_ud2[], rm_results[], rm_scratch[],
    rm_irq_at[];

/* What the real-mode code leaves at rm_results (see the offsets below). */
struct rm_results {
  uint16_t ip30, cs30, fl30, fl_before, ip0, ip6, word_es, pad;
  uint32_t unreal, cr0;
  uint16_t irq_count, irq_ip;
};

uint32_t pm_esp;

__asm__(".pushsection .text\n"
        ".code32\n"
        ".globl rm_run\n"
        "rm_run:\n"
        "  push %ebp\n  push %ebx\n  push %esi\n  push %edi\n"
        "  mov %esp, pm_esp\n"
        "  ljmp $0x18, $(0x8000 + pm16 - rm_base)\n"
        "pm_back:\n"
        "  mov $0x10, %eax\n  mov %eax, %ds\n  mov %eax, %es\n  mov %eax, %fs\n  mov %eax, %gs\n  mov %eax, %ss\n"
        "  mov pm_esp, %esp\n"
        "  pop %edi\n  pop %esi\n  pop %ebx\n  pop %ebp\n"
        "  ret\n"
        ".code16\n"
        ".globl rm_base, rm_end, rm_after_int30, rm_div, rm_ud2, rm_results, rm_scratch, rm_irq_at\n"
        "rm_base:\n"
        "pm16:\n" /* 16-bit protected mode, CS = 0x18 (base 0) */
        "  mov $0x20, %ax\n  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n  mov %ax, %gs\n"
        "  mov $0x10, %ax\n  mov %ax, %fs\n" /* a 4 GiB limit that real mode keeps */
        "  mov %cr0, %eax\n  and $0xfffffffe, %eax\n  mov %eax, %cr0\n"
        "  ljmp $0x0800, $(rm - rm_base)\n"
        "rm:\n"
        "  xor %ax, %ax\n  mov %ax, %ss\n  mov $0x7c00, %sp\n"
        "  mov $0x0800, %ax\n  mov %ax, %ds\n"
        "  lidt (rm_idtr - rm_base)\n"
        "  xor %ax, %ax\n  mov %ax, %es\n"
        "  movw $(h30 - rm_base), %es:0xc0\n  movw $0x0800, %es:0xc2\n"
        "  movw $(h0 - rm_base), %es:0x00\n  movw $0x0800, %es:0x02\n"
        "  movw $(h6 - rm_base), %es:0x18\n  movw $0x0800, %es:0x1a\n"
        "  movw $(h25 - rm_base), %es:0x94\n  movw $0x0800, %es:0x96\n"
        "  mov %cr0, %eax\n  mov %eax, (rm_results - rm_base + 20)\n"
        "  stc\n"
        "  pushf\n  pop %ax\n  mov %ax, (rm_results - rm_base + 6)\n"
        "  int $0x30\n"
        "rm_after_int30:\n"
        "  xor %dx, %dx\n  mov $1, %ax\n  xor %cx, %cx\n"
        "rm_div:\n"
        "  div %cx\n"
        "rm_ud2:\n"
        "  ud2\n"
        /* Segment arithmetic: 0800:0100 is 0810:0000. */
        "  movw $0xa5c3, (rm_scratch - rm_base)\n"
        "  mov $(0x0800 + (rm_scratch - rm_base) / 16), %ax\n  mov %ax, %es\n"
        "  mov %es:((rm_scratch - rm_base) % 16), %ax\n  mov %ax, (rm_results - rm_base + 12)\n"
        /* IRQ5 of pc-testdev (the 8259A maps it to vector 0x25): taken after STI and one instruction. */
        "  mov $0x2005, %dx\n  mov $1, %al\n  out %al, %dx\n"
        "  sti\n"
        "  nop\n"
        "rm_irq_at:\n"
        "  nop\n"
        "  cli\n"
        /* Big real mode: FS base 0 with its 4 GiB limit. */
        "  mov $0x100000, %esi\n"
        "  mov %fs:(%esi), %eax\n  mov %eax, (rm_results - rm_base + 16)\n"
        /* Up again: PE, then a far JMP to 32-bit code at 1 MiB. */
        "  cli\n"
        "  mov %cr0, %eax\n  or $1, %eax\n  mov %eax, %cr0\n"
        "  .byte 0x66, 0xea\n  .long pm_back\n  .word 0x08\n"
        "h30:\n" /* INT 0x30: record IP, CS, FLAGS from the stack */
        "  push %bp\n  mov %sp, %bp\n"
        "  mov 2(%bp), %ax\n  mov %ax, (rm_results - rm_base + 0)\n"
        "  mov 4(%bp), %ax\n  mov %ax, (rm_results - rm_base + 2)\n"
        "  mov 6(%bp), %ax\n  mov %ax, (rm_results - rm_base + 4)\n"
        "  pop %bp\n  iret\n"
        "h0:\n" /* #DE: record IP, skip the 2-byte DIV */
        "  push %bp\n  mov %sp, %bp\n"
        "  mov 2(%bp), %ax\n  mov %ax, (rm_results - rm_base + 8)\n"
        "  addw $2, 2(%bp)\n"
        "  pop %bp\n  iret\n"
        "h25:\n" /* IRQ5: record IP, lower the line, EOI */
        "  push %bp\n  push %ax\n  push %dx\n  mov %sp, %bp\n"
        "  mov 6(%bp), %ax\n  mov %ax, (rm_results - rm_base + 26)\n"
        "  incw (rm_results - rm_base + 24)\n"
        "  mov $0x2005, %dx\n  xor %al, %al\n  out %al, %dx\n"
        "  mov $0x20, %al\n  out %al, $0x20\n"
        "  pop %dx\n  pop %ax\n  pop %bp\n  iret\n"
        "h6:\n" /* #UD: record IP, skip the 2-byte UD2 */
        "  push %bp\n  mov %sp, %bp\n"
        "  mov 2(%bp), %ax\n  mov %ax, (rm_results - rm_base + 10)\n"
        "  addw $2, 2(%bp)\n"
        "  pop %bp\n  iret\n"
        "rm_idtr: .word 0x3ff\n  .long 0\n"
        "  .balign 16\n"
        "rm_scratch: .word 0\n"
        "  .balign 4\n"
        "rm_results: .fill 28, 1, 0\n"
        "rm_end:\n"
        ".code32\n"
        ".popsection\n");

#define OFF(label) ((uint32_t)((label) - rm_base))

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  gdt[1] = DESC_CODE32;
  gdt[2] = DESC_DATA;
  gdt[SEL_CODE16 >> 3] = seg_desc(0, 0xffff, 0x9a, 0); /* 16-bit code, base 0, 64 KiB */
  gdt[SEL_DATA16 >> 3] = seg_desc(0, 0xffff, 0x92, 0); /* 16-bit data, base 0, 64 KiB */
  lgdt(gdt, sizeof gdt);
  uint8_t *to = (uint8_t *)(RM_SEG * 16);
  for (uint32_t i = 0; i < (uint32_t)(rm_end - rm_base); i++) to[i] = (uint8_t)rm_base[i];
  check((uint32_t)(rm_end - rm_base) < 0x1000, "real-mode code too big for 0x8000-0x8fff");
  pic_init(1 << 5); /* IRQ5 at vector 0x25 */
  rm_run();
  for (int v = 0; v < 32; v++) gate_set(&idt[v], SEL_CODE32, (uint32_t)exception_stubs[v], 0x8e);
  lidt(idt, sizeof idt);
  const volatile struct rm_results *r = (const volatile struct rm_results *)(RM_SEG * 16 + OFF(rm_results));
  check(read_cs() == SEL_CODE32, "not back in 32-bit protected mode");
  check((r->cr0 & 1) == 0, "CR0.PE still set in real mode");
  puts("realmode: from protected mode through a 16-bit segment, CR0.PE cleared, far JMP to 0800:0000; back "
       "by CR0.PE and a far JMP to 0008\n");
  check(r->ip30 == OFF(rm_after_int30) && r->cs30 == RM_SEG, "INT 0x30: IP or CS on the stack");
  check(r->fl30 == r->fl_before && (r->fl30 & FL_CF) != 0, "INT 0x30: FLAGS on the stack");
  puts("realmode: INT 0x30 through the IVT: IP after the INT, CS=0800 and FLAGS (CF set) on the stack\n");
  check(r->ip0 == OFF(rm_div), "#DE: IP not at the DIV");
  check(r->ip6 == OFF(rm_ud2), "#UD: IP not at the UD2");
  puts("realmode: #DE (DIV by 0) and #UD (UD2) through the IVT with IP at the faulting instruction\n");
  check(r->word_es == 0xa5c3, "0810:0000 is not 0800:0100");
  puts("realmode: segment arithmetic: the word stored at 0800:");
  puthex(OFF(rm_scratch), 4);
  puts(" read back at ");
  puthex(RM_SEG + OFF(rm_scratch) / 16, 4);
  putc(':');
  puthex(OFF(rm_scratch) % 16, 4);
  putc('\n');
  check(r->irq_count == 1 && r->irq_ip == OFF(rm_irq_at), "IRQ5 in real mode: not taken once after STI; NOP");
  puts("realmode: IRQ5 through the 8259A and the IVT (vector 25), taken after STI and one instruction\n");
  check(r->unreal == 0x1badb002, "big real mode: FS:[0x100000] is not the multiboot header");
  puts("realmode: big real mode: FS kept its 4 GiB limit, FS:[ESI=100000] read ");
  puthex(r->unreal, 8);
  putc('\n');
  pass();
}
