/* (j) Virtual-8086 mode (SDM vol. 3, chapter 20): a TSS with SS0:ESP0 and an I/O permission
 * bitmap that allows COM1 (0x3F8-0x3FF) only; an IRET from CPL 0 with VM = 1 to 8086 code at
 * 2000:0000 (copied to linear 0x20000), paging on, that does segment arithmetic, reads from a page
 * that is not present (#PF with a user error code; the monitor maps it), single-steps (#DB traps
 * through the IDT), takes IRQ5 (through the IDT to the monitor), calls a ring-0 monitor with
 * INT 0x21 through a DPL-3 interrupt gate (IOPL 3), writes COM1 itself, has OUTs the bitmap denies
 * trap as #GP(0), checks that POPF leaves IOPL alone, asks the monitor to lower IOPL to 0, then
 * traps CLI, HLT, STI, PUSHF, POPF, IRET, INT 3 and INT 0x21 as #GP(0), while INT3 (0xCC), not
 * IOPL-sensitive, goes through the IDT.
 * The monitor checks every frame (GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP, the error code),
 * emulates what trapped and finally returns to 32-bit protected mode.
 *
 * Where CPUID advertises VME (Turtles does; QEMU 7.2's TCG does not), the monitor also sets
 * CR4.VME and the 8086 code checks the virtual-mode extensions (SDM vol. 3, 20.3 and 20.4): INT
 * 0x10 redirected through the TSS bitmap to the 8086 program's own IVT (method 6), IRET, STI,
 * CLI and PUSHF acting on VIF with IOPL 0, and INT 0x21 whose redirection bit is set still
 * trapping as #GP(0) (method 3). Those checks print nothing (FAIL if one does not hold), so that
 * the serial output is the same as QEMU's. */
#include "rt.h"
#include "sys.h"

#define SEL_TSS 0x20
#define V86_SEG 0x2000 /* the 8086 code and data: linear 0x20000 */
#define V86_STACK_SEG 0x3000
#define MAGIC_AT 0x24567 /* 2456:0007 = 2000:4567 */
#define MAGIC 0x5a
#define HOLE 0x25000   /* a page left not present: the monitor maps it on the #PF */
#define BACKING 0x26000 /* the page it maps there */

/* The TSS, the software-interrupt redirection bitmap (32 bytes just below the I/O bitmap, SDM
 * vol. 3, 20.3.3) and the I/O permission bitmap with its terminating 0xFF byte (16.5.2). */
static struct {
  struct tss32 t;
  uint8_t redirect[32];
  uint8_t iomap[8192];
  uint8_t end;
} __attribute__((packed, aligned(16))) tss;

static uint64_t gdt[5];
static struct gate idt[256];
static uint8_t monitor_stack[8192] __attribute__((aligned(16)));
/* 32-bit paging: the first 4 MiB identity-mapped with user pages, but HOLE. */
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table[1024] __attribute__((aligned(4096)));
#define MONITOR_TOP ((uint32_t)monitor_stack + sizeof monitor_stack)

/* Written by the assembly below (hence not static). */
uint32_t pm_esp;              /* the protected-mode stack while the 8086 code runs */
uint16_t entry_segs[5];       /* DS, ES, FS, GS, SS on entry to the monitor */
uint32_t entry_eflags;        /* EFLAGS on entry to the monitor */

/* The monitor's frame: PUSHAD, the vector and error code (0 where the CPU pushes none), then
 * what the processor pushed leaving virtual-8086 mode (SDM vol. 3, Figure 20-2). */
struct frame {
  uint32_t edi, esi, ebp, esp_, ebx, edx, ecx, eax;
  uint32_t vector, error;
  uint32_t eip, cs, eflags, esp, ss, es, ds, fs, gs;
};

void v86_enter(void);
void v86_leave(void) __attribute__((noreturn));
extern void (*const monitor_stubs[32])(void);
void monitor_int21(void);
void monitor_irq5(void);
extern const char v86_code[], v86_code_end[], v86_after_int1[], v86_out80[], v86_out3ff[], v86_cli[],
    v86_hlt[], v86_int_iopl0[], v86_sub[], v86_sti[], v86_pushf[], v86_popf[], v86_iret[], v86_after_int3[],
    v86_int_3[], v86_pf[], v86_irq_at[], v86_step1[], v86_step2[];

#define OFF(label) ((uint32_t)((label) - v86_code))

__asm__(
    ".pushsection .text\n"
    /* Enters the 8086 code: an IRET at CPL 0 whose EFLAGS image has VM = 1 pops EIP, CS, EFLAGS,
     * ESP, SS, ES, DS, FS, GS (SDM IRET, RETURN-TO-VIRTUAL-8086-MODE). */
    ".globl v86_enter\n"
    "v86_enter:\n"
    "  push %ebp\n  push %ebx\n  push %esi\n  push %edi\n"
    "  mov %esp, pm_esp\n"
    "  pushl $0x2003\n"  /* GS */
    "  pushl $0x2002\n"  /* FS */
    "  pushl $0x2000\n"  /* DS */
    "  pushl $0x2001\n"  /* ES */
    "  pushl $0x3000\n"  /* SS */
    "  pushl $0xfffe\n"  /* ESP */
    "  pushl $0x23002\n" /* EFLAGS: VM, IOPL 3, IF 0 */
    "  pushl $0x2000\n"  /* CS */
    "  pushl $0\n"       /* EIP */
    "  iretl\n"
    /* Back to the protected-mode caller of v86_enter (called by the monitor at CPL 0). */
    ".globl v86_leave\n"
    "v86_leave:\n"
    "  mov $0x10, %eax\n  mov %eax, %ds\n  mov %eax, %es\n  mov %eax, %fs\n  mov %eax, %gs\n"
    "  mov pm_esp, %esp\n"
    "  pop %edi\n  pop %esi\n  pop %ebx\n  pop %ebp\n"
    "  ret\n"
    /* The monitor's entry stubs: the data segments are null on entry from virtual-8086 mode, so
     * SS (SS0 from the TSS) addresses memory until DS and ES are loaded. */
    ".macro MONSTUB v\n"
    "mon_\\v:\n"
    "  .if (\\v == 8) || (\\v >= 10 && \\v <= 14) || (\\v == 17) || (\\v == 21)\n"
    "  .else\n"
    "  pushl $0\n"
    "  .endif\n"
    "  pushl $\\v\n"
    "  jmp mon_common\n"
    ".endm\n"
    ".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,33,37\n"
    "  MONSTUB \\v\n"
    ".endr\n"
    ".globl monitor_int21\n"
    "monitor_int21 = mon_33\n"
    ".globl monitor_irq5\n"
    "monitor_irq5 = mon_37\n"
    "mon_common:\n"
    "  pushal\n"
    "  movw %ds, %ss:entry_segs\n"
    "  movw %es, %ss:entry_segs+2\n"
    "  movw %fs, %ss:entry_segs+4\n"
    "  movw %gs, %ss:entry_segs+6\n"
    "  movw %ss, %ss:entry_segs+8\n"
    "  pushfl\n"
    "  popl %ss:entry_eflags\n"
    "  mov $0x10, %eax\n  mov %eax, %ds\n  mov %eax, %es\n"
    "  push %esp\n"
    "  call monitor\n"
    "  add $4, %esp\n"
    "  popal\n"
    "  add $8, %esp\n"
    "  iretl\n"
    ".popsection\n"
    ".pushsection .rodata\n"
    ".align 4\n"
    ".globl monitor_stubs\n"
    "monitor_stubs:\n"
    ".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  .long mon_\\v\n"
    ".endr\n"
    ".popsection\n");

/* The 8086 program, copied to 2000:0000; the monitor's services are INT 0x21 with AH = the
 * function. */
__asm__(
    ".pushsection .text\n"
    ".code16\n"
    ".globl v86_code, v86_code_end, v86_after_int1, v86_out80, v86_out3ff, v86_cli, v86_hlt\n"
    ".globl v86_int_iopl0, v86_sub, v86_sti, v86_pushf, v86_popf, v86_iret, v86_after_int3, v86_int_3\n"
    ".globl v86_pf, v86_step1, v86_step2, v86_irq_at\n"
    "v86_code:\n"
    "  mov $0x00, %ah\n" /* 0: the monitor checks the frame of this first call */
    "  int $0x21\n"
    "v86_after_int1:\n"
    /* Segment arithmetic: linear = selector * 16 + offset, no wrap at 1 MiB (A20 is on). */
    "  mov $0x2456, %ax\n  mov %ax, %ds\n  mov 0x0007, %bl\n"
    "  mov $0x2000, %ax\n  mov %ax, %es\n  mov %es:0x4567, %bh\n"
    "  mov $0x1234, %ax\n  push %ax\n" /* at 3000:fffc */
    "  mov $0x3fff, %ax\n  mov %ax, %es\n  mov %es:0x000c, %dx\n  pop %ax\n"
    "  mov $0xffff, %ax\n  mov %ax, %fs\n  mov %fs:0x0010, %ecx\n"
    "  mov $0x2000, %ax\n  mov %ax, %ds\n  mov $0x2001, %ax\n  mov %ax, %es\n"
    "  mov $0x2002, %ax\n  mov %ax, %fs\n"
    "  mov $0x01, %ah\n"
    "  int $0x21\n"
    /* A far CALL to a routine ending in IRET (a real-mode style return at IOPL 3): FLAGS come back. */
    "  xor %di, %di\n"
    "  stc\n  pushf\n  lcall $0x2000, $(v86_sub - v86_code)\n  sbb %si, %si\n"
    "  mov $0x02, %ah\n"
    "  int $0x21\n"
    /* IRQ5 of pc-testdev (port 0x2005, allowed by the bitmap) while in virtual-8086 mode with IOPL
     * 3: STI, then the interrupt after one more instruction, through the IDT to the monitor. */
    "  mov $0x2005, %dx\n  mov $1, %al\n  out %al, %dx\n"
    "  sti\n"
    "  nop\n"
    "v86_irq_at:\n"
    "  nop\n"
    "  cli\n"
    /* A read from a page that is not present: #PF to the monitor, which maps it; the read retries. */
    "  mov $0x2500, %ax\n  mov %ax, %ds\n"
    "v86_pf:\n"
    "  mov 0x0123, %bx\n"
    "  mov $0x2000, %ax\n  mov %ax, %ds\n"
    "  mov $0x08, %ah\n"
    "  int $0x21\n"
    /* Single-step (TF set by POPF at IOPL 3): #DB through the IDT after each instruction; at the
     * second the monitor clears TF. (No breakpoint in DR0 here: QEMU 7.2 crashes when one is hit
     * in virtual-8086 mode.) */
    "  pushf\n  pop %ax\n  or $0x100, %ax\n  push %ax\n  popf\n"
    "  nop\n"
    "v86_step1:\n"
    "  nop\n"
    "v86_step2:\n"
    /* POPF at IOPL 3 in virtual-8086 mode cannot change IOPL. */
    "  pushf\n  pop %ax\n  and $0xcfff, %ax\n  push %ax\n  popf\n  pushf\n  pop %bx\n"
    "  mov $0x07, %ah\n"
    "  int $0x21\n"
    /* COM1 from the 8086 code: IN from 0x3FD and OUT to 0x3F8 are allowed by the bitmap. */
    "  mov $(v86_msg1 - v86_code), %si\n  call v86_puts\n"
    /* Ports the bitmap denies: #GP(0). */
    "  mov $0x55, %al\n"
    "v86_out80:\n"
    "  out %al, $0x80\n"
    "  mov $0x3ff, %dx\n"
    "v86_out3ff:\n"
    "  out %ax, %dx\n" /* ports 0x3FF and 0x400: the second is denied */
    "  mov $0x03, %ah\n" /* 3: lower IOPL to 0 */
    "  int $0x21\n"
    "v86_cli:\n"
    "  cli\n"
    "v86_hlt:\n"
    "  hlt\n"
    "v86_sti:\n"
    "  sti\n"
    "v86_pushf:\n"
    "  pushf\n"
    "v86_popf:\n"
    "  popf\n"
    "v86_iret:\n"
    "  iret\n"
    "  int3\n" /* not IOPL-sensitive: vector 3 through the IDT */
    "v86_after_int3:\n"
    "v86_int_3:\n"
    "  .byte 0xcd, 0x03\n" /* INT 3 in its two-byte form (GNU as turns `int $3` into 0xCC): #GP(0) */
    "  mov $(v86_msg2 - v86_code), %si\n  call v86_puts\n"
    "  mov $0x04, %ah\n" /* 4: enable VME if CPUID has it (AL = 1) */
    "v86_int_iopl0:\n"
    "  int $0x21\n"
    "  test %al, %al\n"
    "  jz v86_done\n"
    /* VME: INT 0x10 redirected to this program's IVT entry (linear 0x40). */
    "  xor %ax, %ax\n  mov %ax, %es\n"
    "  movw $(v86_int10 - v86_code), %es:0x40\n  movw $0x2000, %es:0x42\n"
    "  mov $0x2001, %ax\n  mov %ax, %es\n"
    "  xor %cx, %cx\n  xor %di, %di\n"
    "  int $0x10\n"
    "  sti\n" /* VIF = 1 */
    "  pushf\n  pop %si\n"
    "  mov $0x05, %ah\n"
    "  int $0x21\n"
    "  cli\n" /* VIF = 0 */
    "  pushf\n  pop %si\n"
    "  mov $0x06, %ah\n"
    "  int $0x21\n"
    "v86_done:\n"
    "  mov $0xff, %ah\n" /* 0xFF: back to protected mode */
    "  int $0x21\n"
    "  jmp v86_done\n"
    "v86_int10:\n" /* the 8086 handler of INT 0x10: records the FLAGS image it was given */
    "  mov %sp, %bp\n  mov 4(%bp), %di\n  mov $0x10, %cl\n  iret\n"
    "v86_sub:\n"
    "  clc\n  mov $0x77, %di\n  iret\n"
    "v86_puts:\n" /* prints the string at DS:SI on COM1 */
    "1:lodsb\n  test %al, %al\n  jz 3f\n  mov %al, %ah\n  mov $0x3fd, %dx\n"
    "2:in %dx, %al\n  test $0x20, %al\n  jz 2b\n  mov $0x3f8, %dx\n  mov %ah, %al\n  out %al, %dx\n"
    "  jmp 1b\n"
    "3:ret\n"
    "v86_msg1: .asciz \"v86: OUT to COM1 from 8086 code (ports 3f8-3ff allowed by the I/O bitmap)\\n\"\n"
    "v86_msg2: .asciz \"v86: with IOPL 0, OUT to COM1 still allowed: the I/O bitmap alone governs I/O in virtual-8086 mode\\n\"\n"
    "v86_code_end:\n"
    ".code32\n"
    ".popsection\n");

static uint32_t entries;
static uint32_t steps;
static int int_emulated_told;
static uint32_t trapped; /* bit per instruction of the IOPL 0 group that trapped */
static int vme_used;

static void put_at(const struct frame *f) {
  puts(" at ");
  puthex(f->cs, 4);
  putc(':');
  puthex(f->eip, 4);
  putc('\n');
}

static int have_vme(void) {
  uint32_t a, b, c, d;
  cpuid(1, &a, &b, &c, &d);
  return (d & 2) != 0;
}

static void set_cr4(uint32_t set, uint32_t clear) {
  uint32_t cr4;
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  cr4 = (cr4 | set) & ~clear;
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
}

/* The monitor's services (AH of INT 0x21). */
static void service(struct frame *f) {
  uint32_t fn = (f->eax >> 8) & 0xff;
  switch (fn) {
  case 8:
    check((f->ebx & 0xffff) == 0xbeef, "the read did not retry in the page the monitor mapped");
    puts("v86: the read retried after the #PF and saw the page the monitor mapped\n");
    break;
  case 7:
    check((f->ebx & FL_IOPL3) == FL_IOPL3 && (f->eflags & FL_IOPL3) == FL_IOPL3, "POPF changed IOPL");
    puts("v86: POPF with IOPL 3 left IOPL unchanged\n");
    break;
  case 0:
    check(f->gs == 0x2003 && f->fs == 0x2002 && f->ds == 0x2000 && f->es == 0x2001, "data segments in the frame");
    check(f->ss == V86_STACK_SEG && f->esp == 0xfffe, "SS:ESP in the frame");
    check(f->eflags == (FL_VM | FL_IOPL3 | 2), "EFLAGS in the frame");
    check(f->cs == V86_SEG && f->eip == OFF(v86_after_int1), "CS:EIP in the frame");
    puts("v86: INT 0x21 with IOPL 3 reached the ring-0 monitor through a DPL-3 gate: frame GS=");
    puthex(f->gs, 4);
    puts(" FS=");
    puthex(f->fs, 4);
    puts(" DS=");
    puthex(f->ds, 4);
    puts(" ES=");
    puthex(f->es, 4);
    puts(" SS=");
    puthex(f->ss, 4);
    puts(" ESP=");
    puthex(f->esp, 8);
    puts(" EFLAGS=");
    puthex(f->eflags, 8);
    puts(" CS=");
    puthex(f->cs, 4);
    puts(" EIP=");
    puthex(f->eip, 8);
    putc('\n');
    puts("v86: the monitor runs at CPL 0 on SS0:ESP0 from the TSS, DS ES FS GS null, IF clear\n");
    break;
  case 1:
    check((f->ebx & 0xff) == MAGIC, "2456:0007 is not linear 0x24567");
    check(((f->ebx >> 8) & 0xff) == MAGIC, "2000:4567 is not linear 0x24567");
    check((f->edx & 0xffff) == 0x1234, "3fff:000c is not the word pushed at 3000:fffc");
    check(f->ecx == 0x1badb002, "ffff:0010 is not linear 0x100000 (the multiboot header)");
    puts("v86: segment arithmetic: 2456:0007 and 2000:4567 are linear 24567, 3fff:000c is the word "
         "pushed at 3000:fffc, ffff:0010 is linear 100000 (");
    puthex(f->ecx, 8);
    puts(")\n");
    break;
  case 2:
    check((f->edi & 0xffff) == 0x77, "the far-called routine did not run");
    check((f->esi & 0xffff) == 0xffff, "IRET did not restore CF");
    puts("v86: a far CALL to a routine ending in IRET (IOPL 3) came back with FLAGS restored\n");
    break;
  case 3:
    f->eflags &= ~FL_IOPL3;
    puts("v86: the monitor lowered IOPL to 0 in the stacked EFLAGS\n");
    break;
  case 4:
    f->eax &= ~0xffu;
    if (have_vme()) {
      set_cr4(1, 0);
      f->eax |= 1;
      vme_used = 1;
    }
    break;
  case 5: /* VME, after INT 0x10 redirected and STI */
    check((f->ecx & 0xff) == 0x10, "VME: INT 0x10 was not redirected to the 8086 IVT");
    check((f->edi & 0x3200) == 0x3000, "VME: INT 0x10 pushed FLAGS without IOPL 3 and IF = VIF = 0");
    check((f->esi & 0x3200) == 0x3200, "VME: PUSHF after STI does not show IF = VIF = 1, IOPL 3");
    check((f->eflags & (FL_VIF | FL_IF | FL_IOPL3 | FL_VM)) == (FL_VIF | FL_VM), "VME: STI did not set VIF alone");
    break;
  case 6: /* VME, after CLI */
    check((f->esi & 0x3200) == 0x3000, "VME: PUSHF after CLI does not show IF = VIF = 0, IOPL 3");
    check((f->eflags & (FL_VIF | FL_IF | FL_IOPL3 | FL_VM)) == FL_VM, "VME: CLI did not clear VIF");
    break;
  case 0xff:
    set_cr4(0, 1);
    v86_leave();
  default:
    fail("unknown monitor service");
  }
}

/* #GP(0) from the 8086 code: what trapped, then emulate or skip it. */
static void general_protection(struct frame *f) {
  const uint8_t *ip = (const uint8_t *)(f->cs * 16 + f->eip);
  check(f->error == 0, "#GP error code is not 0");
  check(f->cs == V86_SEG, "#GP from outside the 8086 code");
  switch (ip[0]) {
  case 0xe6: /* OUT imm8, AL */
    check(f->eip == OFF(v86_out80) && ip[1] == 0x80, "unexpected OUT trapped");
    puts("v86: OUT to port 80 (denied by the I/O bitmap) trapped as #GP(0)");
    put_at(f);
    f->eip += 2;
    break;
  case 0xef: /* OUT DX, AX */
    check(f->eip == OFF(v86_out3ff) && (f->edx & 0xffff) == 0x3ff, "unexpected OUT DX trapped");
    puts("v86: word OUT to port 3ff (3ff allowed, 400 denied) trapped as #GP(0)");
    put_at(f);
    f->eip += 1;
    break;
  case 0xfa: /* CLI */
    check(f->eip == OFF(v86_cli) && (f->eflags & FL_IOPL3) == 0, "CLI trapped at IOPL 3");
    puts("v86: CLI with IOPL 0 trapped as #GP(0)");
    put_at(f);
    f->eip += 1;
    break;
  case 0xf4: /* HLT */
    check(f->eip == OFF(v86_hlt), "unexpected HLT");
    puts("v86: HLT trapped as #GP(0)");
    put_at(f);
    f->eip += 1;
    break;
  case 0xfb: /* STI */
  case 0x9c: /* PUSHF */
  case 0x9d: /* POPF */
  case 0xcf: /* IRET */
    check(f->eip == OFF(ip[0] == 0xfb ? v86_sti : ip[0] == 0x9c ? v86_pushf : ip[0] == 0x9d ? v86_popf : v86_iret),
          "unexpected STI, PUSHF, POPF or IRET trapped");
    check((f->eflags & FL_IOPL3) == 0 && f->esp == 0xfffe, "STI, PUSHF, POPF or IRET: IOPL or SP");
    trapped |= ip[0] == 0xfb ? 1 : ip[0] == 0x9c ? 2 : ip[0] == 0x9d ? 4 : 8;
    if (ip[0] == 0xcf) {
      check(trapped == 15, "STI, PUSHF, POPF, IRET: not each trapped once");
      puts("v86: STI, PUSHF, POPF and IRET with IOPL 0 each trapped as #GP(0), SP unchanged\n");
    }
    f->eip += 1;
    break;
  case 0xcd: /* INT n with IOPL < 3 */
    if (ip[1] == 3) {
      check(f->eip == OFF(v86_int_3), "INT 3 trapped at the wrong place");
      puts("v86: INT 3 (CD 03) with IOPL 0 trapped as #GP(0)");
      put_at(f);
      f->eip += 2;
      break;
    }
    check(ip[1] == 0x21, "INT other than 0x21 or 3 trapped");
    check((f->eflags & FL_IOPL3) == 0, "INT trapped at IOPL 3");
    if (!int_emulated_told) {
      check(f->eip == OFF(v86_int_iopl0), "INT 0x21 trapped at the wrong place");
      puts("v86: INT 0x21 with IOPL 0 trapped as #GP(0)");
      puts(" at ");
      puthex(f->cs, 4);
      putc(':');
      puthex(f->eip, 4);
      puts("; the monitor emulates it\n");
      int_emulated_told = 1;
    }
    f->eip += 2;
    service(f);
    break;
  default:
    puts("opcode ");
    puthex(ip[0], 2);
    put_at(f);
    fail("unexpected #GP in virtual-8086 mode");
  }
}

/* Every event from the 8086 code comes here (the stubs above), at CPL 0 on SS0:ESP0. */
void monitor(struct frame *f);
void monitor(struct frame *f) {
  entries++;
  if ((f->eflags & FL_VM) == 0) {
    puts("exception ");
    putdec(f->vector);
    puts(" error ");
    puthex(f->error, 8);
    puts(" at ");
    puthex(f->eip, 8);
    putc('\n');
    fail("exception outside virtual-8086 mode");
  }
  check(read_cs() == SEL_CODE32, "monitor not at CPL 0");
  check(entry_segs[0] == 0 && entry_segs[1] == 0 && entry_segs[2] == 0 && entry_segs[3] == 0,
        "DS, ES, FS, GS not null on entry from virtual-8086 mode");
  check(entry_segs[4] == SEL_DATA && (uint32_t)(&f->gs + 1) == MONITOR_TOP, "not on SS0:ESP0 of the TSS");
  check((entry_eflags & FL_IF) == 0, "IF set in the interrupt-gate handler");
  if (f->vector == 13) {
    general_protection(f);
  } else if (f->vector == 0x21) {
    service(f);
  } else if (f->vector == 0x25) {
    check(f->eip == OFF(v86_irq_at) && f->cs == V86_SEG && (f->eflags & (FL_IF | FL_VM)) == (FL_IF | FL_VM) &&
              f->error == 0,
          "IRQ5 in virtual-8086 mode: frame");
    outb(0x2000 + 5, 0);
    pic_eoi(5);
    puts("v86: IRQ5 taken in virtual-8086 mode (after STI and one instruction) reached the monitor through "
         "the IDT with the v86 frame\n");
  } else if (f->vector == 14) {
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    check(f->error == 4, "#PF error code is not 4 (user read, not present)");
    check(cr2 == HOLE + 0x123 && f->cs == V86_SEG && f->eip == OFF(v86_pf) && f->ds == 0x2500, "#PF: CR2 or frame");
    puts("v86: read at 2500:0123 from a page not present: #PF error code 4 (user, read), CR2=");
    puthex(cr2, 8);
    puts(", frame DS=2500; the monitor maps the page\n");
    page_table[HOLE >> 12] = BACKING | 7;
    __asm__ volatile("invlpg (%0)" : : "r"(HOLE) : "memory");
  } else if (f->vector == 1) {
    uint32_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    __asm__ volatile("mov %0, %%dr6" : : "r"(0));
    steps++;
    check(steps <= 2 && f->eip == (steps == 1 ? OFF(v86_step1) : OFF(v86_step2)) && (dr6 & 0x400f) == 0x4000 &&
              (f->eflags & FL_TF) != 0,
          "single-step in virtual-8086 mode: EIP, DR6.BS or TF");
    if (steps == 2) {
      puts("v86: single-step: #DB traps through the IDT after each of two instructions, DR6.BS, TF in the frame\n");
      f->eflags &= ~FL_TF;
    }
  } else if (f->vector == 3) {
    check(f->eip == OFF(v86_after_int3) && (f->eflags & FL_IOPL3) == 0, "INT3: frame");
    puts("v86: INT3 (CC) with IOPL 0 is not IOPL-sensitive: vector 3 through its DPL-3 gate, EIP after it\n");
  } else {
    puts("exception ");
    putdec(f->vector);
    puts(" error ");
    puthex(f->error, 8);
    put_at(f);
    fail("unexpected exception in virtual-8086 mode");
  }
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  /* GDT: start.S's flat descriptors, then the TSS at 0x20. */
  gdt[1] = DESC_CODE32;
  gdt[2] = DESC_DATA;
  gdt[4] = seg_desc((uint32_t)&tss, sizeof tss - 1, ACC_TSS32_AVAIL, 0);
  lgdt(gdt, sizeof gdt);
  tss.t.esp0 = MONITOR_TOP;
  tss.t.ss0 = SEL_DATA;
  tss.t.iomap = (uint16_t)((uint32_t)tss.iomap - (uint32_t)&tss);
  for (uint32_t i = 0; i < sizeof tss.redirect; i++) tss.redirect[i] = 0xff;
  tss.redirect[0x10 / 8] &= (uint8_t)~(1 << (0x10 % 8)); /* INT 0x10 redirected under VME */
  for (uint32_t i = 0; i < sizeof tss.iomap; i++) tss.iomap[i] = 0xff;
  tss.iomap[0x3f8 / 8] = 0;                     /* COM1 */
  tss.iomap[0x2005 / 8] &= (uint8_t)~(1 << (0x2005 % 8)); /* pc-testdev's IRQ5 port */
  tss.end = 0xff;
  ltr(SEL_TSS);
  for (int v = 0; v < 32; v++) gate_set(&idt[v], SEL_CODE32, (uint32_t)monitor_stubs[v], 0x8e);
  gate_set(&idt[0x21], SEL_CODE32, (uint32_t)monitor_int21, 0xee); /* DPL 3: INT 0x21 from CPL 3 */
  gate_set(&idt[3], SEL_CODE32, (uint32_t)monitor_stubs[3], 0xee);    /* DPL 3: INT3 */
  gate_set(&idt[0x25], SEL_CODE32, (uint32_t)monitor_irq5, 0x8e);      /* IRQ5 */
  pic_init(1 << 5);
  lidt(idt, sizeof idt);
  /* The 8086 program at 2000:0000, its data at linear 0x24567. */
  uint8_t *code = (uint8_t *)(V86_SEG * 16);
  for (uint32_t i = 0; i < (uint32_t)(v86_code_end - v86_code); i++) code[i] = (uint8_t)v86_code[i];
  *(volatile uint8_t *)MAGIC_AT = MAGIC;
  *(volatile uint16_t *)(BACKING + 0x123) = 0xbeef;
  for (uint32_t i = 0; i < 1024; i++) page_table[i] = i * 4096 | 7;
  page_table[HOLE >> 12] = 0;
  page_dir[0] = (uint32_t)page_table | 7;
  __asm__ volatile("mov %0, %%cr3\n"
                   "mov %%cr0, %%eax\n"
                   "or $0x80000000, %%eax\n"
                   "mov %%eax, %%cr0\n"
                   :
                   : "r"(page_dir)
                   : "eax", "memory");
  puts("v86: paging on; TSS with SS0:ESP0 and an I/O bitmap allowing COM1 only; IRET to 2000:0000 with VM=1, IOPL=3\n");
  v86_enter();
  check(read_cs() == SEL_CODE32 && str() == SEL_TSS, "not back at CPL 0 with the TSS");
  check((eflags() & FL_IOPL3) == 0, "IOPL not 0 in protected mode");
  check(entries == (vme_used ? 24 : 22), "not every event reached the monitor once");
  puts("v86: back in 32-bit protected mode at CPL 0; the monitor was entered 22 times\n");
  pass();
}
