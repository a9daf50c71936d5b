/* (l) Debug registers and single-step (SDM vol. 3, chapter 18): TF set by POPF single-steps five
 * instructions, each a #DB trap with DR6.BS and the EIP of the next instruction; an execute
 * breakpoint in DR0 is a #DB fault before the instruction, taken again on return without RF and
 * not with RF, and RF is cleared once the instruction has run (the next call faults again); a
 * data write breakpoint in DR1 (4 bytes) traps after each write that touches it, with DR6.B1 and
 * the EIP of the next instruction, and not for a read or a write beside it; set to reads and
 * writes (R/W = 11) it traps after a read. MOV SS holds the single-step trap off for one
 * instruction (SDM vol. 3, 6.8.3). The breakpoints are set on code that has already run a
 * thousand times. DR4/DR5 alias DR6/DR7 with CR4.DE clear and are #UD with it set; an I/O
 * breakpoint traps after an OUT to its port. (DR7.GD is not checked: QEMU 7.2's TCG ignores it.) */
#include "rt.h"
#include "sys.h"

#define DR6_B0 0x1u
#define DR6_B1 0x2u
#define DR6_BS 0x4000u

static struct gate idt[256];
extern void (*const exception_stubs[32])(void);
void db_stub(void);
uint32_t step_run(void);
uint32_t bp_func(void);
void data_run(void);
void io_run(void);
void ud_stub(void);
extern const char io_after[];
uint32_t read_run(void);
void ss_run(void);
extern const char step_2[], step_3[], step_4[], step_5[], step_end[], data_after1[], data_after2[];
extern const char read_after[], ss_1[], ss_2[], ss_end[];
uint32_t watched[2] __attribute__((aligned(8)));

__asm__(".pushsection .text\n"
        ".globl db_stub\n"
        "db_stub:\n"
        "  pushal\n"
        "  lea 32(%esp), %eax\n" /* EIP, CS, EFLAGS as the processor pushed them */
        "  push %eax\n"
        "  call db_handler\n"
        "  add $4, %esp\n"
        "  popal\n"
        "  iret\n"
        /* Single-step: POPF sets TF, the trap comes after each following instruction. Returns
         * EAX (8), and ECX the FLAGS image PUSHF stored while stepping. */
        ".globl step_run, step_2, step_3, step_4, step_5, step_end\n"
        "step_run:\n"
        "  pushf\n"
        "  orl $0x100, (%esp)\n"
        "  popf\n"
        "  nop\n"
        "step_2:\n"
        "  mov $5, %eax\n"
        "step_3:\n"
        "  add $3, %eax\n"
        "step_4:\n"
        "  pushf\n"
        "step_5:\n"
        "  pop %edx\n"
        "step_end:\n" /* the handler clears TF here */
        "  ret\n"
        /* The execute-breakpoint target. */
        ".globl bp_func\n"
        "bp_func:\n"
        "  mov $0x1234, %eax\n"
        "  ret\n"
        /* Data accesses to watched[0] (the DR1 range) and watched[1] beside it. */
        ".globl data_run, data_after1, data_after2\n"
        "data_run:\n"
        "  mov watched, %eax\n"
        "  movl $0x11, watched\n"
        "data_after1:\n"
        "  movw $0x22, watched+2\n"
        "data_after2:\n"
        "  movl $0x33, watched+4\n"
        "  mov watched+4, %eax\n"
        "  ret\n"
        /* Port 0x84, then port 0x80 under an I/O breakpoint. */
        ".globl io_run, io_after\n"
        "io_run:\n"
        "  mov $0x84, %dx\n"
        "  out %al, %dx\n"
        "  out %al, $0x80\n"
        "io_after:\n"
        "  ret\n"
        /* #UD: count it and skip the 3-byte MOV DR instruction. */
        ".globl ud_stub\n"
        "ud_stub:\n"
        "  incl ud_count\n"
        "  addl $3, (%esp)\n"
        "  iret\n"
        ".globl read_run, read_after\n"
        "read_run:\n"
        "  mov watched, %eax\n"
        "read_after:\n"
        "  ret\n"
        /* MOV SS under single-step: no trap after it, the next one after the instruction following. */
        ".globl ss_run, ss_1, ss_2, ss_end\n"
        "ss_run:\n"
        "  pushf\n"
        "  orl $0x100, (%esp)\n"
        "  popf\n"
        "  nop\n"
        "ss_1:\n"
        "  mov %ss, %ax\n"
        "ss_2:\n"
        "  mov %ax, %ss\n"
        "  nop\n"
        "ss_end:\n" /* the handler clears TF here */
        "  ret\n"
        ".popsection\n");

#define MODE_STEP 1
#define MODE_EXEC 2
#define MODE_DATA 3
static volatile int mode;
uint32_t ud_count; /* written by ud_stub */
static volatile uint32_t hits;
static volatile uint32_t hit_eip[8], hit_dr6[8], hit_flags[8];

static uint32_t read_dr6(void) {
  uint32_t v;
  __asm__ volatile("mov %%dr6, %0" : "=r"(v));
  return v;
}

static void write_dr(int n, uint32_t v) {
  switch (n) {
  case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
  case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
  case 6: __asm__ volatile("mov %0, %%dr6" : : "r"(v)); break;
  case 7: __asm__ volatile("mov %0, %%dr7" : : "r"(v)); break;
  default: fail("no such debug register");
  }
}

void db_handler(uint32_t *frame);
void db_handler(uint32_t *frame) {
  uint32_t n = hits++;
  if (n >= 8) fail("too many #DB");
  hit_eip[n] = frame[0];
  hit_dr6[n] = read_dr6();
  hit_flags[n] = frame[2];
  write_dr(6, 0); /* DR6 is never cleared by the processor */
  if (mode == MODE_STEP && (frame[0] == (uint32_t)step_end || frame[0] == (uint32_t)ss_end)) frame[2] &= ~FL_TF;
  /* The first fault at the breakpoint returns without RF (and faults again), the second with RF. */
  if (mode == MODE_EXEC && n % 2 == 1) frame[2] |= FL_RF;
}

static void start(int m) {
  mode = m;
  hits = 0;
  write_dr(6, 0);
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  for (int v = 0; v < 32; v++) gate_set(&idt[v], SEL_CODE32, (uint32_t)exception_stubs[v], 0x8e);
  gate_set(&idt[1], SEL_CODE32, (uint32_t)db_stub, 0x8e);
  lidt(idt, sizeof idt);

  /* Single-step. */
  start(MODE_STEP);
  uint32_t eax, edx;
  __asm__ volatile("call step_run" : "=a"(eax), "=d"(edx) : : "ecx", "memory");
  const char *const want[] = {step_2, step_3, step_4, step_5, step_end};
  check(hits == 5, "single-step: not five #DB traps");
  for (int i = 0; i < 5; i++) {
    check(hit_eip[i] == (uint32_t)want[i], "single-step: trap not after each instruction");
    check((hit_dr6[i] & (DR6_BS | 0xf)) == DR6_BS, "single-step: DR6.BS not set alone");
    check((hit_flags[i] & FL_TF) != 0, "single-step: TF not in the pushed EFLAGS");
  }
  check(eax == 8 && (edx & FL_TF) != 0, "single-step: the stepped code did not run as it should");
  check((eflags() & FL_TF) == 0, "single-step: TF still set");
  puts("debug: TF set by POPF: five #DB traps, one after each of the next five instructions, DR6=");
  puthex(hit_dr6[0], 8);
  puts(" (BS), PUSHF stored TF\n");
  start(MODE_STEP);
  __asm__ volatile("call ss_run" : : : "eax", "memory");
  check(hits == 3, "MOV SS: not three #DB traps");
  check(hit_eip[0] == (uint32_t)ss_1 && hit_eip[1] == (uint32_t)ss_2 && hit_eip[2] == (uint32_t)ss_end,
        "MOV SS: the trap after it was not held off to the next instruction");
  check((hit_dr6[2] & (DR6_BS | 0xf)) == DR6_BS, "MOV SS: DR6.BS not set alone");
  puts("debug: no single-step trap right after MOV SS: the next one comes after the instruction that follows\n");

  /* The code the breakpoints watch runs often first (an emulator may have compiled it by now). */
  start(0);
  for (int i = 0; i < 1000; i++) {
    bp_func();
    data_run();
    read_run();
  }
  check(hits == 0, "#DB with DR7 clear");

  /* Execute breakpoint in DR0. */
  start(MODE_EXEC);
  write_dr(0, (uint32_t)bp_func);
  write_dr(7, 0x1); /* L0, execute, length 1 */
  uint32_t r1 = bp_func();
  check(hits == 2, "DR0: not a fault, a fault again without RF, then on with RF");
  uint32_t r2 = bp_func();
  check(r1 == 0x1234 && r2 == 0x1234, "DR0: the instruction did not run");
  check(hits == 4, "DR0: RF not cleared after the instruction (no fault on the second call)");
  for (int i = 0; i < 4; i++) {
    check(hit_eip[i] == (uint32_t)bp_func, "DR0: #DB not a fault at the breakpoint");
    check((hit_dr6[i] & (DR6_BS | 0xf)) == DR6_B0, "DR0: DR6.B0 not set alone");
  }
  puts("debug: DR0 execute breakpoint: #DB fault before the instruction, DR6=");
  puthex(hit_dr6[0], 8);
  puts(" (B0); returning without RF faults again, with RF the instruction runs; the next call faults\n");
  write_dr(7, 0);
  bp_func();
  check(hits == 4, "DR0: a breakpoint disabled in DR7 still faults");
  puts("debug: with DR7 cleared the breakpoint is off\n");

  /* Data write breakpoint in DR1. */
  start(MODE_DATA);
  write_dr(1, (uint32_t)&watched[0]);
  write_dr(7, (1u << 2) | (1u << 20) | (3u << 22)); /* L1, R/W1 = 01 (writes), LEN1 = 11 (4 bytes) */
  data_run();
  write_dr(7, 0);
  check(hits == 2, "DR1: not two #DB traps (a read, or a write beside it, trapped, or a write did not)");
  check(hit_eip[0] == (uint32_t)data_after1 && hit_eip[1] == (uint32_t)data_after2, "DR1: not a trap after the write");
  check((hit_dr6[0] & (DR6_BS | 0xf)) == DR6_B1 && (hit_dr6[1] & (DR6_BS | 0xf)) == DR6_B1, "DR1: DR6.B1 not set alone");
  check(watched[0] == 0x00220011 && watched[1] == 0x33, "DR1: the writes did not happen");
  puts("debug: DR1 data write breakpoint (4 bytes): #DB traps after the dword and the word write, DR6=");
  puthex(hit_dr6[0], 8);
  puts(" (B1); no trap for a read or a write beside it\n");
  start(MODE_DATA);
  write_dr(7, (1u << 2) | (3u << 20) | (3u << 22)); /* L1, R/W1 = 11 (reads and writes), LEN1 = 11 */
  uint32_t v = read_run();
  write_dr(7, 0);
  check(v == 0x00220011 && hits == 1 && hit_eip[0] == (uint32_t)read_after, "DR1 R/W = 11: no trap after the read");
  check((hit_dr6[0] & (DR6_BS | 0xf)) == DR6_B1, "DR1 R/W = 11: DR6.B1 not set alone");
  puts("debug: DR1 set to reads and writes: #DB trap after a read\n");

  /* DR4 and DR5 alias DR6 and DR7 with CR4.DE clear, and are #UD with it set (SDM vol. 3, 18.2.2). */
  uint32_t dr4, dr5;
  write_dr(6, 0);
  write_dr(7, 0x1);
  __asm__ volatile("mov %%dr4, %0\n mov %%dr5, %1" : "=r"(dr4), "=r"(dr5));
  write_dr(7, 0);
  check(dr4 == read_dr6() && (dr5 & 0xff) == 0x1, "DR4/DR5 do not alias DR6/DR7 with CR4.DE clear");
  gate_set(&idt[6], SEL_CODE32, (uint32_t)ud_stub, 0x8e);
  __asm__ volatile("mov %%cr4, %%eax\n or $8, %%eax\n mov %%eax, %%cr4\n" : : : "eax");
  __asm__ volatile("mov %%dr4, %%eax\n mov %%eax, %%dr5\n" : : : "eax", "memory");
  check(ud_count == 2, "MOV from DR4 or to DR5 with CR4.DE set is not #UD");
  puts("debug: DR4 and DR5 read as DR6 and DR7 with CR4.DE clear (DR4=");
  puthex(dr4, 8);
  puts(" DR5=");
  puthex(dr5, 8);
  puts("), MOV to or from them is #UD with CR4.DE set\n");

  /* An I/O breakpoint (CR4.DE set): DR0 = port 0x80, R/W0 = 10, length 1. */
  start(MODE_DATA);
  write_dr(0, 0x80);
  write_dr(7, 0x1 | (2u << 16));
  io_run();
  write_dr(7, 0);
  check(hits == 1 && hit_eip[0] == (uint32_t)io_after, "I/O breakpoint: not one trap after the OUT to port 80");
  check((hit_dr6[0] & (DR6_BS | 0xf)) == DR6_B0, "I/O breakpoint: DR6.B0 not set alone");
  puts("debug: I/O breakpoint on port 80 (CR4.DE): #DB trap after the OUT to it, DR6=");
  puthex(hit_dr6[0], 8);
  puts(" (B0); none for port 84\n");
  pass();
}
