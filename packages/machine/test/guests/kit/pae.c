/* (p) PAE paging (SDM vol. 3, 4.4): CR4.PAE with a four-entry PDPT, 2 MiB and 4 KiB pages,
 * EFER.NXE with an execute-disable page (#PF error code 0x11 on a fetch, CR2 the address), a
 * reserved bit set in a PTE (#PF with RSVD), a read-only page written at CPL 0 with
 * CR0.WP clear (allowed) and set (#PF error code 3), the accessed and dirty bits, and INVLPG
 * making a changed PTE visible, as a MOV to CR3 does, and toggling CR4.PGE for a global page. The reserved bit is bit 50: QEMU 7.2 does not treat bits 62:52 of
 * PAE entries as reserved, though the SDM (Table 4-11) does and Turtles follows it. (QEMU also
 * leaves P out of the RSVD error code, so only the RSVD, W/R and U/S bits are compared.) */
#include "rt.h"
#include "sys.h"

static struct gate idt[256];
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pt[512] __attribute__((aligned(4096))); /* the first 2 MiB in 4 KiB pages */
static uint8_t nx_page[4096] __attribute__((aligned(4096)));
static uint8_t rsvd_page[4096] __attribute__((aligned(4096)));
static uint8_t ro_page[4096] __attribute__((aligned(4096)));
static uint8_t swap_a[4096] __attribute__((aligned(4096)));
static uint8_t swap_b[4096] __attribute__((aligned(4096)));

/* Written by pf_stub: the #PF error code, CR2, the saved EIP; EIP is set to pf_resume. */
uint32_t pf_error, pf_cr2, pf_eip, pf_count, pf_resume;
void pf_stub(void);
extern void (*const exception_stubs[32])(void);

__asm__(".pushsection .text\n"
        ".globl pf_stub\n"
        "pf_stub:\n"
        "  popl pf_error\n"
        "  push %eax\n"
        "  mov %cr2, %eax\n  mov %eax, pf_cr2\n"
        "  mov 4(%esp), %eax\n  mov %eax, pf_eip\n"
        "  mov pf_resume, %eax\n  mov %eax, 4(%esp)\n"
        "  incl pf_count\n"
        "  pop %eax\n"
        "  iret\n"
        /* try_call(code), try_read(p), try_write(p, v): a #PF resumes at their 1: label. */
        ".globl try_call, try_read, try_write\n"
        "try_call:\n"
        "  push %ebp\n  mov %esp, %ebp\n"
        "  movl $1f, pf_resume\n"
        "  call *8(%ebp)\n"
        "1:mov %ebp, %esp\n  pop %ebp\n  ret\n"
        "try_read:\n"
        "  mov 4(%esp), %eax\n"
        "  movl $1f, pf_resume\n"
        "  movzbl (%eax), %eax\n"
        "1:ret\n"
        "try_write:\n"
        "  mov 4(%esp), %eax\n  mov 8(%esp), %ecx\n"
        "  movl $1f, pf_resume\n"
        "  movb %cl, (%eax)\n"
        "1:ret\n"
        ".popsection\n");
void try_call(void *code);
uint32_t try_read(const void *p);
void try_write(void *p, uint32_t v);

static uint64_t *pte_of(const void *p) { return &pt[(uint32_t)p >> 12]; }

static void invlpg(const void *p) { __asm__ volatile("invlpg (%0)" : : "r"(p) : "memory"); }

static uint32_t faults_before;
#define EXPECT_PF(stmt)       \
  do {                        \
    faults_before = pf_count; \
    stmt;                     \
  } while (0)

static void set_cr0_wp(int on) {
  uint32_t cr0;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  cr0 = on ? cr0 | 0x10000 : cr0 & ~0x10000u;
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  uint32_t a, b, c, d;
  cpuid(0x80000001, &a, &b, &c, &d);
  check((d & (1u << 20)) != 0, "no NX in CPUID.80000001H:EDX");
  for (int v = 0; v < 32; v++) gate_set(&idt[v], SEL_CODE32, (uint32_t)exception_stubs[v], 0x8e);
  gate_set(&idt[14], SEL_CODE32, (uint32_t)pf_stub, 0x8e);
  lidt(idt, sizeof idt);
  for (uint32_t i = 0; i < 512; i++) pt[i] = (uint64_t)(i * 4096) | 3;
  pd[0] = (uint32_t)pt | 3;
  for (uint32_t i = 1; i < 64; i++) pd[i] = (uint64_t)(i << 21) | 0x83; /* 2 MiB pages up to 128 MiB */
  pdpt[0] = (uint32_t)pd | 1;
  *pte_of(nx_page) |= 1ull << 63;
  *pte_of(rsvd_page) |= 1ull << 50; /* above MAXPHYADDR (40 in QEMU's qemu64, 46 in Turtles) */
  *pte_of(ro_page) &= ~2ull;
  nx_page[0] = 0xc3; /* ret */
  __asm__ volatile("mov %%cr4, %%eax\n or $0x20, %%eax\n mov %%eax, %%cr4\n"
                   "mov %0, %%cr3\n"
                   "mov $0xc0000080, %%ecx\n rdmsr\n or $0x800, %%eax\n wrmsr\n"
                   "mov %%cr0, %%eax\n or $0x80000000, %%eax\n mov %%eax, %%cr0\n"
                   :
                   : "r"(pdpt)
                   : "eax", "ecx", "edx", "memory");
  puts("pae: CR4.PAE, EFER.NXE, paging on: a PDPT, 2 MiB pages and a table of 4 KiB pages\n");

  EXPECT_PF(try_call(nx_page));
  check(pf_count == faults_before + 1 && pf_error == 0x11 && pf_cr2 == (uint32_t)nx_page && pf_eip == (uint32_t)nx_page,
        "fetch from an execute-disable page: not #PF 0x11 at it");
  check(try_read(nx_page) == 0xc3, "reading the XD page");
  puts("pae: a fetch from an XD page is #PF error code 11 with CR2 and EIP at it; reading it is allowed\n");

  EXPECT_PF(try_read(rsvd_page));
  /* The SDM's error code is 9 (P and RSVD, 4.7); QEMU 7.2 gives 8: only RSVD, W/R and U/S are compared. */
  check(pf_count == faults_before + 1 && (pf_error & 0xe) == 0x8 && pf_cr2 == (uint32_t)rsvd_page,
        "read through a PTE with bit 50 set: not #PF with RSVD");
  puts("pae: a read through a PTE with reserved bit 50 set is #PF with RSVD in the error code\n");

  set_cr0_wp(0);
  *(volatile uint8_t *)ro_page = 1;
  set_cr0_wp(1);
  EXPECT_PF(try_write(ro_page, 2));
  check(pf_count == faults_before + 1 && pf_error == 0x3 && pf_cr2 == (uint32_t)ro_page && ro_page[0] == 1,
        "write to a read-only page with CR0.WP: not #PF 3");
  puts("pae: CPL 0 writes a read-only page with CR0.WP clear; with it set the write is #PF error code 3\n");

  volatile uint64_t *pte = pte_of(swap_a);
  check((*pte & 0x60) == 0, "A or D set before any access");
  *(volatile uint8_t *)swap_a = 0xaa;
  *(volatile uint8_t *)swap_b = 0xbb;
  check((*pte & 0x60) == 0x60, "a write did not set A and D");
  *pte = (*pte & ~0xfffff000ull) | (uint32_t)swap_b;
  invlpg(swap_a);
  check(*(volatile uint8_t *)swap_a == 0xbb, "INVLPG: the old translation is still used");
  puts("pae: a write sets A and D in the PTE; after INVLPG a changed PTE is used\n");

  /* A MOV to CR3 drops non-global translations; toggling CR4.PGE drops global ones too. */
  *pte = (*pte & ~0xfffff000ull) | (uint32_t)swap_a;
  __asm__ volatile("mov %%cr3, %%eax\n mov %%eax, %%cr3" : : : "eax", "memory");
  check(*(volatile uint8_t *)swap_a == 0xaa, "MOV to CR3: a changed PTE is not used");
  __asm__ volatile("mov %%cr4, %%eax\n or $0x80, %%eax\n mov %%eax, %%cr4" : : : "eax", "memory");
  *pte |= 0x100; /* global */
  invlpg(swap_a);
  check(*(volatile uint8_t *)swap_a == 0xaa, "global page: not mapped");
  *pte = (*pte & ~0xfffff000ull) | (uint32_t)swap_b;
  __asm__ volatile("mov %%cr4, %%eax\n and $~0x80, %%eax\n mov %%eax, %%cr4\n"
                   "or $0x80, %%eax\n mov %%eax, %%cr4"
                   :
                   :
                   : "eax", "memory");
  check(*(volatile uint8_t *)swap_a == 0xbb, "toggling CR4.PGE: a changed global PTE is not used");
  puts("pae: a MOV to CR3 makes a changed PTE visible; for a global page, toggling CR4.PGE does\n");
  pass();
}
