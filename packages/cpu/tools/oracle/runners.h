/*
 * Native runners: one function per instruction form, each executing the instruction once on the
 * host CPU with the case's operands and input flags (popfq before, pushfq after).
 * Operand modifiers: %b = 8-bit, %w = 16-bit, %k = 32-bit, %q = 64-bit register name.
 */
#include <stdint.h>

typedef struct {
  uint64_t a, b, c, fin; /* inputs */
  uint64_t r, d, fout;   /* outputs: result, second result, flags */
  uint32_t fault;        /* 0 = none, 1 = #DE */
} Case;

typedef void (*RunFn)(Case *);

#define PRE "push %[f]\n\tpopfq\n\t"
#define POST "\n\tpushfq\n\tpop %[f]"

/* Four operand sizes: F(op, bits, AT&T suffix, register modifier). */
#define SIZES4(F, op) F(op, 8, "b", "b") F(op, 16, "w", "w") F(op, 32, "l", "k") F(op, 64, "q", "q")
#define SIZES3(F, op) F(op, 16, "w", "w") F(op, 32, "l", "k") F(op, 64, "q", "q")
#define SIZES2(F, op) F(op, 32, "l", "k") F(op, 64, "q", "q")

/* r = a OP b (two-operand ALU, also BT*, BSF/BSR, POPCNT/LZCNT/TZCNT, ADCX/ADOX, IMUL r, r/m). */
#define MK_BIN(op, n, sfx, M)                                                                    \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, b = k->b, f = k->fin;                                                     \
    __asm__ volatile(PRE #op sfx " %" M "[b], %" M "[a]" POST                                    \
                     : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory");                  \
    k->r = a;                                                                                    \
    k->fout = f;                                                                                 \
  }

/* a = OP a */
#define MK_UN(op, n, sfx, M)                                                                     \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, f = k->fin;                                                               \
    __asm__ volatile(PRE #op sfx " %" M "[a]" POST : [a] "+r"(a), [f] "+r"(f) : : "cc", "memory"); \
    k->r = a;                                                                                    \
    k->fout = f;                                                                                 \
  }

/* a = a OP CL (count in c) */
#define MK_SH(op, n, sfx, M)                                                                     \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, f = k->fin, c = k->c;                                                     \
    __asm__ volatile(PRE #op sfx " %%cl, %" M "[a]" POST                                         \
                     : [a] "+r"(a), [f] "+r"(f) : "c"(c) : "cc", "memory");                      \
    k->r = a;                                                                                    \
    k->fout = f;                                                                                 \
  }

/* a = SHLD/SHRD(a, b, CL) */
#define MK_SHD(op, n, sfx, M)                                                                    \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, b = k->b, f = k->fin, c = k->c;                                           \
    __asm__ volatile(PRE #op sfx " %%cl, %" M "[b], %" M "[a]" POST                              \
                     : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b), "c"(c) : "cc", "memory");          \
    k->r = a;                                                                                    \
    k->fout = f;                                                                                 \
  }

/* One-operand MUL/IMUL: rAX = a, rDX = c (ignored by 8-bit), source b. r = rAX, d = rDX. */
#define MK_MUL1(op, n, sfx, M)                                                                   \
  static void run_##op##1_##n(Case *k) {                                                         \
    uint64_t a = k->a, d = k->c, b = k->b, f = k->fin;                                           \
    __asm__ volatile(PRE #op sfx " %" M "[b]" POST                                               \
                     : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "r"(b) : "cc", "memory");             \
    if (n == 8) {                                                                                \
      k->r = a & 0xff;                                                                           \
      k->d = (a >> 8) & 0xff;                                                                    \
    } else {                                                                                     \
      k->r = a;                                                                                  \
      k->d = d;                                                                                  \
    }                                                                                            \
    k->fout = f;                                                                                 \
  }

/* DIV/IDIV: dividend = b:a (8-bit: AH:AL), divisor c. r = quotient, d = remainder. */
#define MK_DIV(op, n, sfx, M)                                                                    \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, d = k->b, c = k->c, f = k->fin;                                           \
    if (n == 8) a = (a & 0xff) | ((d & 0xff) << 8);                                              \
    __asm__ volatile(PRE #op sfx " %" M "[c]" POST                                               \
                     : "+a"(a), "+d"(d), [f] "+r"(f) : [c] "r"(c) : "cc", "memory");             \
    if (n == 8) {                                                                                \
      k->r = a & 0xff;                                                                           \
      k->d = (a >> 8) & 0xff;                                                                    \
    } else {                                                                                     \
      k->r = a;                                                                                  \
      k->d = d;                                                                                  \
    }                                                                                            \
    k->fout = f;                                                                                 \
  }

/* BMI three-operand VEX forms, Intel order dest, src1, src2 -> AT&T src2, src1, dest.
 * r = OP(a, b): ANDN ~a & b; BEXTR(a, control b); BZHI(a, index b); PDEP/PEXT(a, mask b);
 * SARX/SHLX/SHRX(a, count b). */
#define MK_VEX3(op, n, sfx, M)                                                                   \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, b = k->b, r = k->c, f = k->fin;                                           \
    __asm__ volatile(PRE #op sfx " %" M "[s2], %" M "[s1], %" M "[r]" POST                       \
                     : [r] "+r"(r), [f] "+r"(f) : [s1] "r"(OP_S1_##op), [s2] "r"(OP_S2_##op)     \
                     : "cc", "memory");                                                          \
    k->r = r;                                                                                    \
    k->fout = f;                                                                                 \
  }
/* Which case input goes to which AT&T operand (AT&T order: vvvv-or-r/m source 2, source 1, dest). */
#define OP_S1_andn a
#define OP_S2_andn b
#define OP_S1_bextr a
#define OP_S2_bextr b
#define OP_S1_bzhi a
#define OP_S2_bzhi b
#define OP_S1_pdep a
#define OP_S2_pdep b
#define OP_S1_pext a
#define OP_S2_pext b
#define OP_S1_sarx a
#define OP_S2_sarx b
#define OP_S1_shlx a
#define OP_S2_shlx b
#define OP_S1_shrx a
#define OP_S2_shrx b

/* BLSI/BLSMSK/BLSR: r = OP(a) into a fresh register. */
#define MK_VEX2(op, n, sfx, M)                                                                   \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, r = k->c, f = k->fin;                                                     \
    __asm__ volatile(PRE #op sfx " %" M "[a], %" M "[r]" POST                                    \
                     : [r] "+r"(r), [f] "+r"(f) : [a] "r"(a) : "cc", "memory");                  \
    k->r = r;                                                                                    \
    k->fout = f;                                                                                 \
  }

/* MULX: rDX = a, source b; r = low half, d = high half. */
#define MK_MULX(op, n, sfx, M)                                                                   \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t dx = k->a, b = k->b, lo = 0, hi = 0, f = k->fin;                                    \
    __asm__ volatile(PRE "mulx" sfx " %" M "[b], %" M "[lo], %" M "[hi]" POST                    \
                     : [lo] "=&r"(lo), [hi] "=&r"(hi), [f] "+r"(f) : "d"(dx), [b] "r"(b)         \
                     : "cc", "memory");                                                          \
    k->r = lo;                                                                                   \
    k->d = hi;                                                                                   \
    k->fout = f;                                                                                 \
  }

/* BSWAP */
#define MK_BSWAP(op, n, sfx, M) MK_UN(op, n, sfx, M)

/* MOVBE register <- memory: a = old register, b = memory value. */
#define MK_MOVBE(op, n, sfx, M)                                                                  \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, f = k->fin;                                                               \
    uint64_t mem = k->b;                                                                         \
    __asm__ volatile(PRE #op sfx " %[m], %" M "[a]" POST                                         \
                     : [a] "+r"(a), [f] "+r"(f) : [m] "m"(*(uint64_t *)&mem) : "cc", "memory");  \
    k->r = a;                                                                                    \
    k->fout = f;                                                                                 \
  }

/* CMPXCHG dest a, src b, accumulator c. r = dest after, d = accumulator after. */
#define MK_CMPXCHG(op, n, sfx, M)                                                                \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t dst = k->a, src = k->b, acc = k->c, f = k->fin;                                     \
    __asm__ volatile(PRE #op sfx " %" M "[s], %" M "[d]" POST                                    \
                     : [d] "+r"(dst), "+a"(acc), [f] "+r"(f) : [s] "r"(src) : "cc", "memory");   \
    k->r = dst;                                                                                  \
    k->d = acc;                                                                                  \
    k->fout = f;                                                                                 \
  }

/* XADD dest a, src b. r = dest after (sum), d = src after (old dest). */
#define MK_XADD(op, n, sfx, M)                                                                   \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t dst = k->a, src = k->b, f = k->fin;                                                 \
    __asm__ volatile(PRE #op sfx " %" M "[s], %" M "[d]" POST                                    \
                     : [d] "+r"(dst), [s] "+r"(src), [f] "+r"(f) : : "cc", "memory");            \
    k->r = dst;                                                                                  \
    k->d = src;                                                                                  \
    k->fout = f;                                                                                 \
  }

/* CRC32 crc a, source b (8/16/32 bits into a 32-bit crc; 64 into a 64-bit register). */
#define MK_CRC(op, n, sfx, M)                                                                    \
  static void run_##op##n(Case *k) {                                                             \
    uint64_t a = k->a, b = k->b, f = k->fin;                                                     \
    __asm__ volatile(PRE #op sfx " %" M "[b], %" CRC_DST_##n "[a]" POST                          \
                     : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory");                  \
    k->r = a;                                                                                    \
    k->fout = f;                                                                                 \
  }
#define CRC_DST_8 "k"
#define CRC_DST_16 "k"
#define CRC_DST_32 "k"
#define CRC_DST_64 "q"

/* CBW/CWDE/CDQE and CWD/CDQ/CQO: rAX = a, rDX = b. r = rAX, d = rDX. */
#define MK_CONV(name, insn)                                                                      \
  static void run_##name(Case *k) {                                                              \
    uint64_t a = k->a, d = k->b, f = k->fin;                                                     \
    __asm__ volatile(PRE insn POST : "+a"(a), "+d"(d), [f] "+r"(f) : : "cc", "memory");          \
    k->r = a;                                                                                    \
    k->d = d;                                                                                    \
    k->fout = f;                                                                                 \
  }

/* IMUL r, r/m, imm and RORX r, r/m, imm need an immediate: one asm per immediate value. */
#define IMM_SET(X) X(0, 0) X(1, 1) X(2, -1) X(3, 127) X(4, -128) X(5, 3) X(6, 0x7fff) X(7, -0x8000)
#define IMM_COUNT 8
#define MK_IMUL3(op, n, sfx, M)                                                                  \
  static void run_imul3_##n(Case *k) {                                                           \
    uint64_t r = 0, b = k->b, f = k->fin;                                                        \
    switch (k->c % IMM_COUNT) { IMM_SET(IMUL3_CASE_##n) }                                        \
    k->r = r;                                                                                    \
    k->fout = f;                                                                                 \
  }
#define IMUL3_CASE(i, v, sfx, M)                                                                 \
  case i:                                                                                        \
    k->a = (uint64_t)(int64_t)(v);                                                               \
    __asm__ volatile(PRE "imul" sfx " $" #v ", %" M "[b], %" M "[r]" POST                        \
                     : [r] "+r"(r), [f] "+r"(f) : [b] "r"(b) : "cc", "memory");                  \
    break;
#define IMUL3_CASE_16(i, v) IMUL3_CASE(i, v, "w", "w")
#define IMUL3_CASE_32(i, v) IMUL3_CASE(i, v, "l", "k")
#define IMUL3_CASE_64(i, v) IMUL3_CASE(i, v, "q", "q")

#define ROT_SET(X) X(0, 0) X(1, 1) X(2, 7) X(3, 8) X(4, 31) X(5, 32) X(6, 33) X(7, 63)
#define MK_RORX(op, n, sfx, M)                                                                   \
  static void run_rorx##n(Case *k) {                                                             \
    uint64_t r = 0, a = k->a, f = k->fin;                                                        \
    switch (k->b % IMM_COUNT) { ROT_SET(RORX_CASE_##n) }                                         \
    k->r = r;                                                                                    \
    k->fout = f;                                                                                 \
  }
#define RORX_CASE(i, v, sfx, M)                                                                  \
  case i:                                                                                        \
    k->b = (v);                                                                                  \
    __asm__ volatile(PRE "rorx" sfx " $" #v ", %" M "[a], %" M "[r]" POST                        \
                     : [r] "+r"(r), [f] "+r"(f) : [a] "r"(a) : "cc", "memory");                  \
    break;
#define RORX_CASE_32(i, v) RORX_CASE(i, v, "l", "k")
#define RORX_CASE_64(i, v) RORX_CASE(i, v, "q", "q")

/* SETcc for all 16 conditions with RFLAGS = fin: r = bit mask (bit cc set when taken). */
#define CC_LIST(X) X(0, o) X(1, no) X(2, b) X(3, ae) X(4, e) X(5, ne) X(6, be) X(7, a) \
  X(8, s) X(9, ns) X(10, p) X(11, np) X(12, l) X(13, ge) X(14, le) X(15, g)
#define CC_ONE(i, cc)                                                                            \
  {                                                                                              \
    uint64_t f = k->fin;                                                                         \
    uint8_t v;                                                                                   \
    __asm__ volatile(PRE "set" #cc " %[v]" POST : [v] "=r"(v), [f] "+r"(f) : : "cc", "memory");  \
    mask |= (uint64_t)(v & 1) << i;                                                              \
  }
static void run_setcc(Case *k) {
  uint64_t mask = 0;
  CC_LIST(CC_ONE)
  k->r = mask;
  k->fout = k->fin;
}

/* Chains: short sequences whose flags flow from one instruction to the next (carry into ADC/SBB/
 * RCL, CF kept across INC/DEC), to test lazily kept flags across instructions. Inputs a, b, c;
 * r = a, d = c at the end. OP2(op, x, y) is AT&T "op x, y": y = y op x. */
#define OP2(op, sfx, M, x, y) #op sfx " %" M "[" #x "], %" M "[" #y "]\n\t"
#define OP1(op, sfx, M, x) #op sfx " %" M "[" #x "]\n\t"
#define OPI(op, sfx, M, imm, x) #op sfx " $" #imm ", %" M "[" #x "]\n\t"
#define CHAIN1(S, M) OP2(add, S, M, b, a) OP2(adc, S, M, a, c) OP1(inc, S, M, b) OP2(sbb, S, M, c, a) \
  OP1(dec, S, M, c) OP2(adc, S, M, b, c)
#define CHAIN2(S, M) OP2(sub, S, M, b, a) OPI(rcl, S, M, 1, c) OP1(neg, S, M, b) OP2(adc, S, M, b, a) \
  OP1(dec, S, M, a) OPI(rcr, S, M, 3, c) OP2(sbb, S, M, b, c)
#define CHAIN3(S, M) OP2(and, S, M, b, a) OP2(adc, S, M, c, a) OP2(xor, S, M, b, c) OP1(inc, S, M, c) \
  OP2(adc, S, M, a, a) OP2(cmp, S, M, a, c) OP2(sbb, S, M, a, c)
#define CHAIN4(S, M) OP2(test, S, M, b, a) OPI(btc, S, M, 7, a) OP2(sbb, S, M, c, b) OPI(rol, S, M, 1, b) \
  OP2(adc, S, M, b, a) OPI(shr, S, M, 1, c) OP2(adc, S, M, b, c)
/* CHAIN5 shifts and rotates by CL = the low byte of b, often 0 (flags must then pass through). */
#define OPC(op, sfx, M, x) #op sfx " %%cl, %" M "[" #x "]\n\t"
#define CHAIN5(S, M) OP2(add, S, M, b, a) OPC(shl, S, M, c) OP2(adc, S, M, a, c) OPC(rcr, S, M, a) \
  OP2(sbb, S, M, c, a) OPC(rol, S, M, c) OP2(adc, S, M, a, c)
#define MK_CHAIN_CL(chain, n, sfx, M)                                                            \
  static void run_##chain##_##n(Case *k) {                                                       \
    uint64_t a = k->a, b = k->b, c = k->c, f = k->fin;                                           \
    __asm__ volatile(PRE chain(sfx, M) "pushfq\n\tpop %[f]"                                      \
                     : [a] "+r"(a), [b] "+c"(b), [c] "+r"(c), [f] "+r"(f) : : "cc", "memory");   \
    k->r = a;                                                                                    \
    k->d = c;                                                                                    \
    k->fout = f;                                                                                 \
  }
#define MK_CHAIN(chain, n, sfx, M)                                                               \
  static void run_##chain##_##n(Case *k) {                                                       \
    uint64_t a = k->a, b = k->b, c = k->c, f = k->fin;                                           \
    __asm__ volatile(PRE chain(sfx, M) "pushfq\n\tpop %[f]"                                      \
                     : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [f] "+r"(f) : : "cc", "memory");   \
    k->r = a;                                                                                    \
    k->d = c;                                                                                    \
    k->fout = f;                                                                                 \
  }
