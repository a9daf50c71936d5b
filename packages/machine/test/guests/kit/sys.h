/* System-architecture helpers for the kit programs that build their own GDT, IDT and TSS
 * (v86, tasks, debug): descriptor encodings (SDM vol. 3, 3.4.5 and 7.2.2), the 32-bit TSS
 * (SDM vol. 3, 8.2.1), gates (SDM vol. 3, 6.11) and the instructions that load them. Header only,
 * so the images that do not use it stay as they were. */
#ifndef SYS_H
#define SYS_H
#include <stdint.h>

/* The selectors start.S uses, kept in the GDTs built here (same descriptors). */
#define SEL_CODE32 0x08
#define SEL_DATA 0x10

/* EFLAGS bits. */
#define FL_CF 0x1u
#define FL_TF 0x100u
#define FL_IF 0x200u
#define FL_IOPL3 0x3000u
#define FL_NT 0x4000u
#define FL_RF 0x10000u
#define FL_VM 0x20000u
#define FL_VIF 0x80000u
#define FL_VIP 0x100000u

/* A segment descriptor: `access` is byte 5 (P, DPL, S, type), `gran` the high nibble of byte 6
 * (G, D/B, L, AVL). */
static inline uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t gran) {
  uint32_t lo = (limit & 0xffff) | (base << 16);
  uint32_t hi = ((base >> 16) & 0xff) | ((uint32_t)access << 8) | (limit & 0xf0000) |
                ((uint32_t)(gran & 0xf) << 20) | (base & 0xff000000);
  return ((uint64_t)hi << 32) | lo;
}

/* The flat descriptors of start.S. */
#define DESC_CODE32 0x00cf9a000000ffffull
#define DESC_DATA 0x00cf92000000ffffull
/* Access bytes of system descriptors. */
#define ACC_TSS32_AVAIL 0x89
#define ACC_TSS32_BUSY 0x8b
#define ACC_TASK_GATE 0x85

/* The 32-bit TSS (SDM vol. 3, Figure 8-2). */
struct tss32 {
  uint16_t link, r0;
  uint32_t esp0;
  uint16_t ss0, r1;
  uint32_t esp1;
  uint16_t ss1, r2;
  uint32_t esp2;
  uint16_t ss2, r3;
  uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
  uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
  uint16_t trap, iomap;
} __attribute__((packed));

/* An IDT entry; `type` is P, DPL and the gate type (0x8e 32-bit interrupt gate, 0x8f trap gate,
 * 0x85 task gate). */
struct gate {
  uint16_t offset_lo, selector;
  uint8_t zero, type;
  uint16_t offset_hi;
} __attribute__((packed));

static inline void gate_set(struct gate *g, uint16_t selector, uint32_t offset, uint8_t type) {
  g->offset_lo = (uint16_t)offset;
  g->selector = selector;
  g->zero = 0;
  g->type = type;
  g->offset_hi = (uint16_t)(offset >> 16);
}

struct table_ptr {
  uint16_t limit;
  uint32_t base;
} __attribute__((packed));

static inline void lgdt(const void *base, uint32_t bytes) {
  struct table_ptr p = {(uint16_t)(bytes - 1), (uint32_t)base};
  __asm__ volatile("lgdt %0" : : "m"(p) : "memory");
}

static inline void lidt(const void *base, uint32_t bytes) {
  struct table_ptr p = {(uint16_t)(bytes - 1), (uint32_t)base};
  __asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

static inline void ltr(uint16_t sel) { __asm__ volatile("ltr %0" : : "r"(sel) : "memory"); }

static inline uint16_t str(void) {
  uint16_t sel;
  __asm__ volatile("str %0" : "=r"(sel));
  return sel;
}

static inline uint32_t eflags(void) {
  uint32_t f;
  __asm__ volatile("pushfl; popl %0" : "=r"(f));
  return f;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint16_t read_cs(void) {
  uint16_t v;
  __asm__ volatile("mov %%cs, %0" : "=r"(v));
  return v;
}
#endif
