/* (r) Self-modifying code (SDM vol. 3, 11.6): a routine whose immediate operand is rewritten
 * before each of a thousand calls (hot by then, in an emulator that compiles hot code); an
 * instruction that rewrites the very next instruction, which must run in its new form; a loop
 * that rewrites its own loop body while running; and data stores into the page that holds the
 * code, beside it, which must leave the code as it was. */
#include "rt.h"

uint32_t patched(void);
uint32_t next_insn(void);
uint32_t self_loop(void);
uint32_t beside(uint32_t n);
extern uint8_t patched_imm[], next_target[], loop_body[], beside_data[];

__asm__(".pushsection .smc, \"awx\", @progbits\n" /* writable code */
        ".globl patched, patched_imm\n"
        "patched:\n"
        "  .byte 0xb8\n" /* mov $imm32, %eax */
        "patched_imm:\n"
        "  .long 0\n"
        "  ret\n"
        /* Rewrites the immediate of the instruction right after it. */
        ".globl next_insn, next_target\n"
        "next_insn:\n"
        "  movl $0x600d600d, next_target\n"
        "  .byte 0xb8\n"
        "next_target:\n"
        "  .long 0xbad0bad0\n"
        "  ret\n"
        /* A loop of ten rounds whose body adds 1; in round 5 it makes the body add 100. */
        ".globl self_loop, loop_body\n"
        "self_loop:\n"
        "  xor %eax, %eax\n"
        "  mov $10, %ecx\n"
        "1:\n"
        "  cmp $5, %ecx\n"
        "  jne 2f\n"
        "  movl $100, loop_body\n"
        "2:\n"
        "  .byte 0x05\n" /* add $imm32, %eax */
        "loop_body:\n"
        "  .long 1\n"
        "  dec %ecx\n"
        "  jnz 1b\n"
        "  ret\n"
        /* n stores into beside_data (same page as this code), then the sum of a fixed computation. */
        ".globl beside, beside_data\n"
        "beside:\n"
        "  mov 4(%esp), %ecx\n"
        "  xor %edx, %edx\n"
        "3:\n"
        "  mov %ecx, beside_data(,%edx,4)\n"
        "  inc %edx\n"
        "  and $15, %edx\n"
        "  dec %ecx\n"
        "  jnz 3b\n"
        "  mov $0x1234, %eax\n"
        "  add $0x1111, %eax\n"
        "  ret\n"
        "beside_data:\n"
        "  .fill 64, 1, 0\n"
        ".popsection\n");

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < 1000; i++) {
    *(volatile uint32_t *)patched_imm = i * 7 + 1;
    if (patched() != i * 7 + 1) bad++;
  }
  check(bad == 0, "a rewritten immediate was not used");
  puts("smc: a routine's immediate rewritten before each of 1000 calls: every call returned the new value\n");
  check(next_insn() == 0x600d600d, "the next instruction ran in its old form");
  check(*(volatile uint32_t *)next_target == 0x600d600d, "the store did not happen");
  puts("smc: an instruction rewriting the very next one: the new form ran\n");
  uint32_t sum = self_loop();
  check(sum == 5 * 1 + 5 * 100, "the loop did not see its own body change");
  puts("smc: a loop rewriting its own body in round 5: rounds 5-10 ran the new body (sum ");
  putdec(sum);
  puts(")\n");
  for (int k = 0; k < 20; k++) check(beside(1000) == 0x2345, "code beside the stored data changed");
  check(((volatile uint32_t *)beside_data)[0] == 8, "the data stores did not happen");
  puts("smc: 20000 stores to data in the page of the code: the code ran unchanged\n");
  pass();
}
