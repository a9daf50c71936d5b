/* (n) Exceptions in 32-bit protected mode (SDM vol. 3, 6.15): each raised on purpose, with the
 * vector, error code and saved EIP checked (the faulting instruction for a fault, the next one for
 * a trap): #DE, #BP, #OF, #BR, #UD, #NM (CR0.TS), #NP and #GP(selector) for data-segment loads,
 * #GP(0) for a null SS and #SS(selector) for a stack segment not present, #UD for LOCK with a
 * register destination and MOV to CS, and with paging on, #PF for a write to a read-only page with
 * CR0.WP (error code 3, CR2), a REP MOVSB that runs into a page not present (#PF part way with
 * ECX, ESI, EDI showing the bytes done; it resumes once the page is mapped), an instruction that
 * runs into a page not present (#PF at its first byte, CR2 the page), the accessed and
 * dirty bits set by a read and a write, and a 4 MiB page (CR4.PSE). Not checked, because QEMU
 * 7.2's TCG departs from the SDM there (Turtles follows the SDM): RF set in the EFLAGS image a fault pushes,
 * the EXT bit of the error code when delivering an exception hits a gate that is not present, and
 * a MOV to CR0 setting PG without PE, a reserved CR4 bit and RDMSR of an absent MSR (#GP(0) each;
 * QEMU takes the first, shutting down, hangs on the second and reads 0 for the third). Nor is an
 * instruction longer than 15 bytes: QEMU gives the SDM's #GP(0), the Turtles CPU #UD for now. */
#include "rt.h"
#include "sys.h"

#define SEL_NP 0x18       /* data, not present */
#define SEL_XONLY 0x20    /* execute-only code */
#define SEL_NP_STACK 0x28 /* writable data (a stack segment), not present */

static uint64_t gdt[6];
static struct gate idt[256];
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table[1024] __attribute__((aligned(4096)));
static uint8_t ro_page[4096] __attribute__((aligned(4096)));
static uint8_t ad_page[4096] __attribute__((aligned(4096)));
uint8_t np_page[4096] __attribute__((aligned(4096)));
uint8_t rep_src[64];
static uint8_t xpages[8192] __attribute__((aligned(4096))); /* code across a page boundary */
uint32_t rep_left = 0xffffffff;
void t_rep(void);
void t_lock(void), t_movcs(void);
extern const char f_lock[],
    f_lock_end[], f_movcs[], f_movcs_end[];
extern const char f_rep[];

/* Written by the stubs: the last exception, and how far to move EIP past it. */
uint32_t ex_vector, ex_error, ex_eip, ex_count, ex_skip;
uint32_t ex_ecx, ex_esi, ex_edi, pf_fix_pte; /* registers at the fault; a PTE the #PF handler marks present */
int32_t bounds[2] = {0, 3};

extern void (*const fault_stubs[32])(void);
void t_de(void), t_bp(void), t_of(void), t_br(void), t_ud(void), t_nm(void), t_np(void), t_xonly(void),
    t_ssnull(void), t_ssnp(void), t_wp(void);
extern const char f_de[], f_de_end[], f_bp_end[], f_of_end[], f_br[], f_br_end[], f_ud[], f_ud_end[], f_nm[],
    f_nm_end[], f_np[], f_np_end[], f_xonly[], f_xonly_end[], f_ssnull[], f_ssnull_end[], f_ssnp[], f_ssnp_end[],
    f_wp[], f_wp_end[];

__asm__(".pushsection .text\n"
        ".macro FSTUB v\n"
        "fstub_\\v:\n"
        "  .if (\\v == 8) || (\\v >= 10 && \\v <= 14) || (\\v == 17) || (\\v == 21)\n"
        "  popl ex_error\n"
        "  .else\n"
        "  movl $0xffffffff, ex_error\n"
        "  .endif\n"
        "  movl $\\v, ex_vector\n"
        "  jmp fstub_common\n"
        ".endm\n"
        ".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "  FSTUB \\v\n"
        ".endr\n"
        "fstub_common:\n"
        "  mov %ecx, ex_ecx\n  mov %esi, ex_esi\n  mov %edi, ex_edi\n"
        "  push %eax\n"
        "  cmpl $14, ex_vector\n  jne 1f\n"
        "  mov pf_fix_pte, %eax\n  test %eax, %eax\n  jz 1f\n"
        "  orl $1, (%eax)\n  movl $0, pf_fix_pte\n  mov %cr2, %eax\n  invlpg (%eax)\n"
        "1:\n"
        "  mov 4(%esp), %eax\n  mov %eax, ex_eip\n"
        "  mov ex_skip, %eax\n  add %eax, 4(%esp)\n"
        "  incl ex_count\n"
        "  pop %eax\n"
        "  iret\n"
        /* Each case below faults at its f_x label; x_end is right after the instruction. */
        
        ".globl t_lock, f_lock, f_lock_end, t_movcs, f_movcs, f_movcs_end\n"
                "t_lock:\nf_lock:\n  .byte 0xf0, 0x01, 0xc3\nf_lock_end:\n  ret\n" /* LOCK ADD %eax, %ebx */
        "t_movcs:\n  mov %cs, %eax\nf_movcs:\n  .byte 0x8e, 0xc8\nf_movcs_end:\n  ret\n" /* MOV %ax, %cs */
        ".globl t_de, t_bp, t_of, t_br, t_ud, t_nm, t_np, t_xonly, t_ssnull, t_ssnp, t_wp\n"
        ".globl f_de, f_de_end, f_bp_end, f_of_end, f_br, f_br_end, f_ud, f_ud_end, f_nm, f_nm_end\n"
        ".globl f_np, f_np_end, f_xonly, f_xonly_end, f_ssnull, f_ssnull_end, f_ssnp, f_ssnp_end, f_wp, f_wp_end\n"
        "t_de:\n  xor %edx, %edx\n  mov $1, %eax\n  xor %ecx, %ecx\nf_de:\n  div %ecx\nf_de_end:\n  ret\n"
        "t_bp:\n  int3\nf_bp_end:\n  ret\n"
        "t_of:\n  mov $0x7fffffff, %eax\n  add $1, %eax\n  into\nf_of_end:\n  ret\n"
        "t_br:\n  mov $5, %eax\nf_br:\n  bound %eax, bounds\nf_br_end:\n  ret\n"
        "t_ud:\nf_ud:\n  ud2\nf_ud_end:\n  ret\n"
        "t_nm:\nf_nm:\n  fninit\nf_nm_end:\n  ret\n"
        "t_np:\n  mov $0x18, %eax\nf_np:\n  mov %eax, %es\nf_np_end:\n  ret\n"
        "t_xonly:\n  mov $0x20, %eax\nf_xonly:\n  mov %eax, %es\nf_xonly_end:\n  ret\n"
        "t_ssnull:\n  xor %eax, %eax\nf_ssnull:\n  mov %eax, %ss\nf_ssnull_end:\n  ret\n"
        "t_ssnp:\n  mov $0x28, %eax\nf_ssnp:\n  mov %eax, %ss\nf_ssnp_end:\n  ret\n"
        "t_wp:\nf_wp:\n  movl $1, ro_page\nf_wp_end:\n  ret\n"
        /* REP MOVSB of 64 bytes from rep_src to 16 bytes below np_page (not present at first). */
        ".globl t_rep, f_rep\n"
        "t_rep:\n  push %esi\n  push %edi\n"
        "  mov $rep_src, %esi\n  mov $np_page - 16, %edi\n  mov $64, %ecx\n  cld\n"
        "f_rep:\n  rep movsb\n"
        "  mov %ecx, rep_left\n"
        "  pop %edi\n  pop %esi\n  ret\n"
        ".popsection\n"
        ".pushsection .rodata\n"
        ".align 4\n"
        ".globl fault_stubs\n"
        "fault_stubs:\n"
        ".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "  .long fstub_\\v\n"
        ".endr\n"
        ".popsection\n");

#define NO_ERROR 0xffffffffu

/* Runs `t`, which must raise `vector` once with `error` at `at`, skipping `skip` bytes. */
static void expect(void (*t)(void), uint32_t vector, uint32_t error, const char *at, uint32_t skip, const char *what) {
  uint32_t before = ex_count;
  ex_skip = skip;
  ex_vector = 0xff;
  t();
  if (ex_count != before + 1 || ex_vector != vector || ex_error != error || ex_eip != (uint32_t)at) {
    puts("got vector ");
    putdec(ex_vector);
    puts(" error ");
    puthex(ex_error, 8);
    puts(" at ");
    puthex(ex_eip, 8);
    putc('\n');
    fail(what);
  }
}

static uint32_t cr(int n) {
  uint32_t v = 0;
  if (n == 0) __asm__ volatile("mov %%cr0, %0" : "=r"(v));
  if (n == 2) __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  if (n == 4) __asm__ volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  gdt[1] = DESC_CODE32;
  gdt[2] = DESC_DATA;
  gdt[SEL_NP >> 3] = DESC_DATA & ~(1ull << 47);
  gdt[SEL_XONLY >> 3] = 0x00cf98000000ffffull;
  gdt[SEL_NP_STACK >> 3] = DESC_DATA & ~(1ull << 47);
  lgdt(gdt, sizeof gdt);
  for (int v = 0; v < 32; v++) gate_set(&idt[v], SEL_CODE32, (uint32_t)fault_stubs[v], 0x8e);
  lidt(idt, sizeof idt);

  expect(t_de, 0, NO_ERROR, f_de, (uint32_t)(f_de_end - f_de), "#DE");
  expect(t_bp, 3, NO_ERROR, f_bp_end, 0, "#BP");
  expect(t_of, 4, NO_ERROR, f_of_end, 0, "#OF");
  expect(t_br, 5, NO_ERROR, f_br, (uint32_t)(f_br_end - f_br), "#BR");
  expect(t_ud, 6, NO_ERROR, f_ud, (uint32_t)(f_ud_end - f_ud), "#UD");
  puts("faults: #DE (DIV by 0), #BR (BOUND) and #UD (UD2) at the instruction; #BP (INT3) and #OF (INTO) after it\n");
  __asm__ volatile("mov %%cr0, %%eax\n or $8, %%eax\n mov %%eax, %%cr0" : : : "eax");
  expect(t_nm, 7, NO_ERROR, f_nm, (uint32_t)(f_nm_end - f_nm), "#NM");
  __asm__ volatile("clts");
  puts("faults: #NM for FNINIT with CR0.TS set\n");
  expect(t_np, 11, SEL_NP, f_np, (uint32_t)(f_np_end - f_np), "#NP loading ES");
  expect(t_xonly, 13, SEL_XONLY, f_xonly, (uint32_t)(f_xonly_end - f_xonly), "#GP loading ES with execute-only code");
  expect(t_ssnull, 13, 0, f_ssnull, (uint32_t)(f_ssnull_end - f_ssnull), "#GP loading a null SS");
  expect(t_ssnp, 12, SEL_NP_STACK, f_ssnp, (uint32_t)(f_ssnp_end - f_ssnp), "#SS loading SS not present");
  expect(t_lock, 6, NO_ERROR, f_lock, (uint32_t)(f_lock_end - f_lock), "#UD for LOCK on a register operand");
  expect(t_movcs, 6, NO_ERROR, f_movcs, (uint32_t)(f_movcs_end - f_movcs), "#UD for MOV to CS");
  puts("faults: #UD for LOCK with a register destination and for MOV to CS\n");
  puts("faults: ES not present #NP(0018), ES execute-only #GP(0020), null SS #GP(0), SS not present #SS(0028)\n");

  /* Paging: the first 4 MiB with 4 KiB pages (ro_page read-only), the next 4 MiB one 4 MiB page
   * mapping physical 0. */
  for (uint32_t i = 0; i < 1024; i++) page_table[i] = i * 4096 | 3;
  page_table[(uint32_t)ro_page >> 12] &= ~2u;
  page_dir[0] = (uint32_t)page_table | 3;
  page_dir[1] = 0x83; /* 4 MiB page at physical 0 */
  __asm__ volatile("mov %%cr4, %%eax\n or $0x10, %%eax\n mov %%eax, %%cr4\n"
                   "mov %0, %%cr3\n"
                   "mov %%cr0, %%eax\n or $0x80010000, %%eax\n mov %%eax, %%cr0\n"
                   :
                   : "r"(page_dir)
                   : "eax", "memory");
  check((cr(0) & 0x80010000) == 0x80010000 && (cr(4) & 0x10) != 0, "paging, WP or PSE not on");
  expect(t_wp, 14, 3, f_wp, (uint32_t)(f_wp_end - f_wp), "#PF for a write to a read-only page with CR0.WP");
  check(cr(2) == (uint32_t)ro_page, "#PF: CR2");
  puts("faults: with CR0.WP a ring-0 write to a read-only page is #PF error code 3, CR2 the address\n");
  volatile uint32_t *pte = &page_table[(uint32_t)ad_page >> 12];
  check((*pte & 0x60) == 0, "A or D set before any access");
  (void)*(volatile uint8_t *)ad_page;
  check((*pte & 0x60) == 0x20 && (page_dir[0] & 0x20) != 0, "a read did not set A alone (and A in the PDE)");
  __asm__ volatile("invlpg (%0)" : : "r"(ad_page) : "memory");
  *(volatile uint8_t *)ad_page = 1;
  check((*pte & 0x60) == 0x60, "a write did not set D");
  for (uint32_t i = 0; i < 64; i++) rep_src[i] = (uint8_t)(i + 1);
  page_table[(uint32_t)np_page >> 12] &= ~1u;
  __asm__ volatile("invlpg (%0)" : : "r"(np_page) : "memory");
  pf_fix_pte = (uint32_t)&page_table[(uint32_t)np_page >> 12];
  expect(t_rep, 14, 2, f_rep, 0, "REP MOVSB into a page not present: #PF");
  check(cr(2) == (uint32_t)np_page, "REP MOVSB: CR2 not at the first byte of the page");
  check(ex_ecx == 48 && ex_esi == (uint32_t)rep_src + 16 && ex_edi == (uint32_t)np_page,
        "REP MOVSB: ECX, ESI, EDI at the #PF not after the 16 bytes done");
  check(rep_left == 0 && np_page[47] == 64 && *(volatile uint8_t *)((uint32_t)np_page - 16) == 1, "REP MOVSB: not completed after the #PF");
  puts("faults: REP MOVSB across into a page not present: #PF after 16 bytes with ECX=48 and ESI/EDI "
       "advanced; mapped, it resumed and finished\n");
  /* An instruction whose last bytes are in a page not present: #PF at its first byte, CR2 the
   * page; once mapped, it runs whole. */
  static const uint8_t code[] = {0xb8, 0x44, 0x33, 0x22, 0x11, 0xc3}; /* mov $0x11223344, %eax; ret */
  for (uint32_t i = 0; i < sizeof code; i++) xpages[4094 + i] = code[i];
  page_table[((uint32_t)xpages >> 12) + 1] &= ~1u;
  __asm__ volatile("invlpg (%0)" : : "r"(xpages + 4096) : "memory");
  pf_fix_pte = (uint32_t)&page_table[((uint32_t)xpages >> 12) + 1];
  uint32_t (*across)(void) = (uint32_t (*)(void))(void *)(xpages + 4094);
  expect((void (*)(void))(void *)across, 14, 0, (const char *)xpages + 4094, 0, "fetch across into a page not present");
  check(cr(2) == (uint32_t)xpages + 4096, "fetch across: CR2 not at the page");
  check(across() == 0x11223344, "fetch across: the instruction did not run whole once mapped");
  puts("faults: an instruction running into a page not present: #PF (error code 0) at its first byte, CR2 "
       "the page; mapped, it ran whole\n");
  puts("faults: a read sets the accessed bit of the PTE and PDE, a write the dirty bit\n");
  check(*(volatile uint32_t *)(0x400000 + 0x100000) == 0x1badb002, "4 MiB page: not physical 0");
  check((page_dir[1] & 0x20) != 0, "4 MiB page: A not set in the PDE");
  puts("faults: a 4 MiB page (CR4.PSE) maps 400000 to physical 0; its PDE is marked accessed\n");
  pass();
}
