/* (m) Privilege levels (SDM vol. 3, chapters 5 and 6): ring 3 entered by IRET; INT 0x80 through a
 * DPL-3 trap gate switches to SS0:ESP0 of the TSS and pushes SS, ESP, EFLAGS, CS, EIP; ring 3
 * writes COM1 through the I/O permission bitmap while an OUT to a denied port, CLI and MOV from CR0
 * are #GP(0), as are INT n through a DPL-0 gate, loading DS with a DPL-0 segment and a far CALL to
 * DPL-0 code (with their selector error codes), HLT, and RDTSC with CR4.TSD, while SMSW is allowed; POPF leaves IF and IOPL alone; IRET to ring 3
 * nulls DS and ES holding a DPL-0 segment; a far CALL through a DPL-3 call gate switches to ring 0 on SS0:ESP0 and a far RET
 * returns to ring 3 (no parameters: the Turtles CPU does not copy call-gate parameters yet); a far CALL to a conforming ring-0 segment keeps CPL 3; LAR,
 * LSL, VERR and VERW from ring 3; SYSENTER to ring 0 and SYSEXIT back. */
#include "rt.h"
#include "sys.h"

#define SEL_CODE3 0x18 /* also SYSENTER_CS + 16 */
#define SEL_DATA3 0x20 /* also SYSENTER_CS + 24 */
#define SEL_TSS 0x28
#define SEL_GATE 0x30 /* call gate, DPL 3, two parameters, to SEL_CODE32:gate_entry */
#define SEL_CONF 0x38 /* conforming code, DPL 0 */

static uint64_t gdt[8];
static struct gate idt[256];
static struct {
  struct tss32 t;
  uint8_t iomap[8192];
  uint8_t end;
} __attribute__((packed, aligned(16))) tss;
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
static uint8_t ring3_stack[4096] __attribute__((aligned(16)));
#define RING0_TOP ((uint32_t)ring0_stack + sizeof ring0_stack)
#define RING3_TOP ((uint32_t)ring3_stack + sizeof ring3_stack)

/* Written by the assembly below (hence not static). */
uint32_t pm_esp;
uint32_t int80_frame[5], int80_esp, gate_frame[4], gate_esp, gate_cs;
uint32_t gp_count, gp_eip[8], gp_error[8], gp_skip[8];
uint32_t popf_seen, null_ds, null_es, smsw_seen;
uint32_t conf_cs, lar_val, lsl_val, zf_bits, sysenter_seen[3], sysexit_seen[2];

extern void (*const exception_stubs[32])(void);
void ring3_enter(void);
void int80_stub(void);
void gp_stub(void);
void gate_entry(void);
void sysenter_entry(void);
extern const char r3_after_int80[], r3_out80[], r3_cli[], r3_movcr0[], r3_after_gate[], r3_after_sysenter[],
    r3_int81[], r3_lds[], r3_farcall[], r3_hlt[], r3_rdtsc[];

__asm__(".pushsection .text\n"
        /* IRET to ring 3 at r3_code on its own stack; INT 0x80 with EAX = 0 comes back here. */
        ".globl ring3_enter\n"
        "ring3_enter:\n"
        "  push %ebp\n  push %ebx\n  push %esi\n  push %edi\n"
        "  mov %esp, pm_esp\n"
        "  pushl $0x23\n"
        "  pushl $ring3_stack+4096\n"
        "  pushl $2\n"
        "  pushl $0x1b\n"
        "  pushl $r3_code\n"
        "  iret\n"
        "ring3_leave:\n"
        "  mov pm_esp, %esp\n"
        "  mov $0x10, %eax\n  mov %eax, %ds\n  mov %eax, %es\n  mov %eax, %fs\n  mov %eax, %gs\n"
        "  pop %edi\n  pop %esi\n  pop %ebx\n  pop %ebp\n"
        "  ret\n"
        /* INT 0x80 (trap gate, DPL 3): EAX = 0 leaves ring 3 for good; EAX = 1 records the frame. */
        ".globl int80_stub\n"
        "int80_stub:\n"
        "  test %eax, %eax\n"
        "  jz ring3_leave\n"
        "  cmp $2, %eax\n"
        "  je 5f\n"
        "  push %ds\n"
        "  push %eax\n"
        "  mov $0x10, %eax\n  mov %eax, %ds\n"
        "  mov 8(%esp), %eax\n  mov %eax, int80_frame\n"
        "  mov 12(%esp), %eax\n  mov %eax, int80_frame+4\n"
        "  mov 16(%esp), %eax\n  mov %eax, int80_frame+8\n"
        "  mov 20(%esp), %eax\n  mov %eax, int80_frame+12\n"
        "  mov 24(%esp), %eax\n  mov %eax, int80_frame+16\n"
        "  lea 8(%esp), %eax\n  mov %eax, int80_esp\n"
        "  pop %eax\n"
        "  pop %ds\n"
        "  iret\n"
        /* EAX = 2: return to ring 3 with DS and ES holding the DPL-0 data segment. */
        "5:mov $0x10, %eax\n  mov %eax, %ds\n  mov %eax, %es\n"
        "  iret\n"
        /* #GP from ring 3: record EIP and the error code, skip the instruction (length from the
         * table of expected places), return. */
        ".globl gp_stub\n"
        "gp_stub:\n"
        "  push %ds\n  push %eax\n  push %ebx\n"
        "  mov $0x10, %eax\n  mov %eax, %ds\n"
        "  mov gp_count, %ebx\n"
        "  cmp $8, %ebx\n"
        "  jae 1f\n"
        "  mov 12(%esp), %eax\n  mov %eax, gp_error(,%ebx,4)\n"
        "  mov 16(%esp), %eax\n  mov %eax, gp_eip(,%ebx,4)\n"
        "  mov gp_skip(,%ebx,4), %eax\n  add %eax, 16(%esp)\n"
        "1:incl gp_count\n"
        "  pop %ebx\n  pop %eax\n  pop %ds\n"
        "  add $4, %esp\n"
        "  iret\n"
        /* The call gate's ring-0 entry: records its stack (EIP, CS, ESP, SS). */
        ".globl gate_entry\n"
        "gate_entry:\n"
        "  push %eax\n"
        "  mov (4)(%esp), %eax\n  mov %eax, %ss:gate_frame\n"
        "  mov (8)(%esp), %eax\n  mov %eax, %ss:gate_frame+4\n"
        "  mov (12)(%esp), %eax\n  mov %eax, %ss:gate_frame+8\n"
        "  mov (16)(%esp), %eax\n  mov %eax, %ss:gate_frame+12\n"
        "  lea 4(%esp), %eax\n  mov %eax, %ss:gate_esp\n"
        "  mov %cs, %eax\n  mov %eax, %ss:gate_cs\n"
        "  pop %eax\n"
        "  lret\n"
        /* SYSENTER's ring-0 entry: records CS, SS and ESP, then SYSEXIT to EDX with ESP = ECX. */
        ".globl sysenter_entry\n"
        "sysenter_entry:\n"
        "  mov %cs, %eax\n  mov %eax, %ss:sysenter_seen\n"
        "  mov %ss, %eax\n  mov %eax, %ss:sysenter_seen+4\n"
        "  mov %esp, %ss:sysenter_seen+8\n"
        "  sysexit\n"
        /* Conforming ring-0 code called from ring 3: CPL stays 3. */
        "conf_entry:\n"
        "  mov %cs, %eax\n"
        "  mov %eax, conf_cs\n"
        "  lret\n"
        /* Ring 3. */
        ".globl r3_after_int80, r3_out80, r3_cli, r3_movcr0, r3_after_gate, r3_after_sysenter\n"
        ".globl r3_int81, r3_lds, r3_farcall, r3_hlt, r3_rdtsc\n"
        "r3_code:\n"
        "  mov $0x23, %eax\n  mov %eax, %ds\n  mov %eax, %es\n"
        "  mov $1, %eax\n"
        "  int $0x80\n"
        "r3_after_int80:\n"
        "  mov $r3_msg, %esi\n"
        "2:lodsb\n  test %al, %al\n  jz 4f\n  mov %al, %ah\n  mov $0x3fd, %dx\n"
        "3:in %dx, %al\n  test $0x20, %al\n  jz 3b\n  mov $0x3f8, %dx\n  mov %ah, %al\n  out %al, %dx\n"
        "  jmp 2b\n"
        "4:\n"
        "r3_out80:\n"
        "  out %al, $0x80\n"
        "r3_cli:\n"
        "  cli\n"
        "r3_movcr0:\n"
        "  mov %cr0, %eax\n"
        "r3_int81:\n"
        "  int $0x81\n" /* a DPL-0 gate: #GP(0x81 * 8 + 2) */
        "  mov $0x10, %eax\n"
        "r3_lds:\n"
        "  mov %eax, %ds\n" /* a DPL-0 data segment: #GP(0010) */
        "r3_farcall:\n"
        "  lcall $0x08, $0\n" /* a non-conforming DPL-0 code segment: #GP(0008) */
        "r3_hlt:\n"
        "  hlt\n" /* #GP(0) */
        "r3_rdtsc:\n"
        "  rdtsc\n" /* CR4.TSD set: #GP(0) */
        "  smsw %eax\n  mov %eax, smsw_seen\n" /* allowed at CPL 3 */
        /* POPF at CPL 3 with IOPL 0 leaves IF and IOPL alone, without a fault. */
        "  pushf\n  orl $0x3200, (%esp)\n  popf\n  pushf\n  pop %eax\n  mov %eax, popf_seen\n"
        /* A return to ring 3 nulls DS and ES if they hold a more privileged data segment. */
        "  mov $2, %eax\n"
        "  int $0x80\n"
        "  mov %ds, %ebx\n  mov %es, %ecx\n"
        "  mov $0x23, %eax\n  mov %eax, %ds\n  mov %eax, %es\n"
        "  mov %ebx, null_ds\n  mov %ecx, null_es\n"
        "  lcall $0x33, $0\n"
        "r3_after_gate:\n"
        "  lcall $0x3b, $conf_entry\n"
        "  mov %cs, %eax\n  lar %ax, %eax\n  mov %eax, lar_val\n"
        "  mov $0x23, %eax\n  lsl %eax, %eax\n  mov %eax, lsl_val\n"
        "  xor %ebx, %ebx\n"
        "  mov $0x08, %eax\n  verr %ax\n  setz %bl\n"
        "  mov $0x3b, %eax\n  verr %ax\n  setz %cl\n  shl $1, %cl\n  or %cl, %bl\n"
        "  mov $0x3b, %eax\n  verw %ax\n  setz %cl\n  shl $2, %cl\n  or %cl, %bl\n"
        "  mov $0x23, %eax\n  verw %ax\n  setz %cl\n  shl $3, %cl\n  or %cl, %bl\n"
        "  mov $0x10, %eax\n  verw %ax\n  setz %cl\n  shl $4, %cl\n  or %cl, %bl\n"
        "  mov %ebx, zf_bits\n"
        "  mov $r3_after_sysenter, %edx\n"
        "  mov %esp, %ecx\n"
        "  sysenter\n"
        "r3_after_sysenter:\n"
        "  mov %cs, %eax\n  mov %eax, sysexit_seen\n"
        "  mov %ss, %eax\n  mov %eax, sysexit_seen+4\n"
        "  xor %eax, %eax\n"
        "  int $0x80\n"
        ".popsection\n"
        ".pushsection .rodata\n"
        "r3_msg: .asciz \"rings: ring 3 writes COM1 itself (ports 3f8-3ff allowed by the I/O bitmap)\\n\"\n"
        ".popsection\n");

static void wrmsr(uint32_t msr, uint32_t lo) { __asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(0)); }

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  gdt[1] = DESC_CODE32;
  gdt[2] = DESC_DATA;
  gdt[SEL_CODE3 >> 3] = 0x00cffb000000ffffull; /* accessed already: QEMU does not set it when CS is loaded */
  gdt[SEL_DATA3 >> 3] = 0x00cff2000000ffffull;
  gdt[SEL_TSS >> 3] = seg_desc((uint32_t)&tss, sizeof tss - 1, ACC_TSS32_AVAIL, 0);
  uint32_t ge = (uint32_t)gate_entry;
  gdt[SEL_GATE >> 3] = (uint64_t)((ge & 0xffff) | (SEL_CODE32 << 16)) |
                       (uint64_t)((ge & 0xffff0000) | 0xec00) << 32; /* 32-bit call gate, DPL 3, no parameters */
  gdt[SEL_CONF >> 3] = 0x00cf9e000000ffffull;                         /* conforming, readable, DPL 0 */
  lgdt(gdt, sizeof gdt);
  tss.t.esp0 = RING0_TOP;
  tss.t.ss0 = SEL_DATA;
  tss.t.iomap = (uint16_t)((uint32_t)tss.iomap - (uint32_t)&tss);
  for (uint32_t i = 0; i < sizeof tss.iomap; i++) tss.iomap[i] = 0xff;
  tss.iomap[0x3f8 / 8] = 0;
  tss.end = 0xff;
  ltr(SEL_TSS);
  for (int v = 0; v < 32; v++) gate_set(&idt[v], SEL_CODE32, (uint32_t)exception_stubs[v], 0x8e);
  gate_set(&idt[13], SEL_CODE32, (uint32_t)gp_stub, 0x8e);
  gate_set(&idt[0x80], SEL_CODE32, (uint32_t)int80_stub, 0xef); /* trap gate, DPL 3 */
  lidt(idt, sizeof idt);
  wrmsr(0x174, SEL_CODE32);
  wrmsr(0x175, RING0_TOP - 256);
  wrmsr(0x176, (uint32_t)sysenter_entry);
  gp_skip[0] = 2; /* OUT imm8 */
  gp_skip[1] = 1; /* CLI */
  gp_skip[2] = 3; /* MOV from CR0 */
  gp_skip[3] = 2; /* INT 0x81 */
  gp_skip[4] = 2; /* MOV to DS */
  gp_skip[5] = 7; /* far CALL */
  gp_skip[6] = 1; /* HLT */
  gp_skip[7] = 2; /* RDTSC */
  __asm__ volatile("mov %%cr4, %%eax\n or $4, %%eax\n mov %%eax, %%cr4" : : : "eax"); /* CR4.TSD */
  gate_set(&idt[0x81], SEL_CODE32, (uint32_t)exception_stubs[0], 0x8e); /* DPL 0 */
  ring3_enter();

  check(int80_frame[0] == (uint32_t)r3_after_int80 && int80_frame[1] == 0x1b, "INT 0x80: CS:EIP");
  check((int80_frame[2] & 0x3000) == 0 && int80_frame[3] == RING3_TOP && int80_frame[4] == 0x23,
        "INT 0x80: EFLAGS, ESP or SS");
  check(int80_esp == RING0_TOP - 20, "INT 0x80: not on SS0:ESP0");
  puts("rings: IRET to ring 3; INT 0x80 through a DPL-3 trap gate to SS0:ESP0: frame SS=0023 ESP=ring 3 "
       "stack top EFLAGS CS=001b EIP after the INT\n");
  check(gp_count == 8, "ring 3: not eight #GP");
  check(gp_eip[0] == (uint32_t)r3_out80 && gp_eip[1] == (uint32_t)r3_cli && gp_eip[2] == (uint32_t)r3_movcr0 &&
            gp_error[0] == 0 && gp_error[1] == 0 && gp_error[2] == 0,
        "ring 3: #GP places or error codes");
  puts("rings: from ring 3, OUT to port 80 (denied by the bitmap), CLI (IOPL 0) and MOV from CR0 are #GP(0)\n");
  check(gp_eip[3] == (uint32_t)r3_int81 && gp_error[3] == 0x81 * 8 + 2, "INT 0x81 through a DPL-0 gate");
  check(gp_eip[4] == (uint32_t)r3_lds && gp_error[4] == SEL_DATA, "loading DS with a DPL-0 segment");
  check(gp_eip[5] == (uint32_t)r3_farcall && gp_error[5] == SEL_CODE32, "far CALL to DPL-0 code");
  puts("rings: from ring 3, INT 0x81 through a DPL-0 gate is #GP(040a), loading DS with 0010 is #GP(0010), a far "
       "CALL to 0008 is #GP(0008)\n");
  check(gp_eip[6] == (uint32_t)r3_hlt && gp_error[6] == 0 && gp_eip[7] == (uint32_t)r3_rdtsc && gp_error[7] == 0,
        "HLT or RDTSC (CR4.TSD) at CPL 3");
  uint32_t cr0;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  check((smsw_seen & 0xffff) == (cr0 & 0xffff), "SMSW at CPL 3"); /* bits 31:16 are undefined */
  puts("rings: from ring 3, HLT and RDTSC with CR4.TSD are #GP(0); SMSW is allowed and reads CR0\n");
  check((popf_seen & 0x3200) == 0, "POPF at CPL 3 changed IF or IOPL");
  puts("rings: POPF at CPL 3 with IOPL 0 leaves IF and IOPL unchanged, without a fault\n");
  check(null_ds == 0 && null_es == 0, "IRET to ring 3 kept DPL-0 segments in DS or ES");
  puts("rings: IRET to ring 3 nulls DS and ES holding a DPL-0 data segment\n");
  check(gate_frame[0] == (uint32_t)r3_after_gate && gate_frame[1] == 0x1b, "call gate: return CS:EIP");
  check(gate_frame[2] == RING3_TOP && gate_frame[3] == 0x23, "call gate: outer SS:ESP");
  check(gate_esp == RING0_TOP - 16 && gate_cs == SEL_CODE32, "call gate: not at CPL 0 on SS0:ESP0");
  puts("rings: far CALL through the DPL-3 call gate 33: CPL 0 on SS0:ESP0, outer SS:ESP and CS:EIP saved; far "
       "RET back to ring 3\n");
  check(conf_cs == 0x3b, "conforming code: CS is not 003b (CPL 3)");
  puts("rings: far CALL to the conforming DPL-0 segment 38 runs at CPL 3 (CS=003b)\n");
  check(lar_val == 0x00c0fb00, "LAR of CS");
  check(lsl_val == 0xffffffff, "LSL of 23");
  check(zf_bits == 0x0a, "VERR/VERW");
  puts("rings: LAR CS=");
  puthex(lar_val, 8);
  puts(", LSL 23=");
  puthex(lsl_val, 8);
  puts("; VERR 08 no, VERR 3b yes, VERW 3b no, VERW 23 yes, VERW 10 no\n");
  check(sysenter_seen[0] == SEL_CODE32 && sysenter_seen[1] == SEL_DATA && sysenter_seen[2] == RING0_TOP - 256,
        "SYSENTER: CS, SS or ESP");
  check(sysexit_seen[0] == 0x1b && sysexit_seen[1] == 0x23, "SYSEXIT: CS or SS");
  puts("rings: SYSENTER to 0008 with SS=0010 and ESP from the MSR; SYSEXIT back to 001b/0023\n");
  pass();
}
