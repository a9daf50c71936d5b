/*
 * Native oracle for @turtles/cpu's integer semantics.
 *
 * Runs every user-mode integer instruction form on the host CPU with seeded random and edge
 * operands and random input flags, and writes one binary fixture file per family:
 *
 *   "TOF1" u32 version(1) u32 formCount
 *   per form: u8 nameLength, name, u8 size, u32 caseCount, caseCount x 13 u32 (little endian):
 *     aLo aHi bLo bHi cLo cHi flagsIn  rLo rHi dLo dHi flagsOut fault
 *
 * Flags are the six arithmetic flags (mask 0x8d5) as read by pushfq; flags the SDM leaves
 * undefined are NOT masked here (the replaying test masks them from its table). fault: 0 none,
 * 1 = #DE (SIGFPE). Output is deterministic for a given host CPU model.
 *
 * Usage: oracle OUTDIR [family...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runners.h"
#include "families.h"

#define CASES 200
#define ARITH_FLAGS 0x8d5u

/* ---- random numbers: splitmix64, seeded per family ---- */
static uint64_t rng_state;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint64_t seed_of(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  return h;
}

static uint64_t mask_of(int n) { return n >= 64 || n == 0 ? ~0ull : (1ull << n) - 1; }

/* Edge values (masked to the size by the caller). */
static uint64_t edge(int n) {
  uint64_t sign = 1ull << (n - 1);
  const uint64_t e[] = {0, 1, 2, 3, 0xf, 0x10, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
                        0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, ~0ull, ~0ull - 1,
                        sign, sign - 1, sign + 1, 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull};
  return e[rnd() % (sizeof e / sizeof e[0])];
}

static uint64_t val(int n) {
  uint64_t r = rnd(), v;
  switch (r % 10) {
    case 0: case 1: case 2: v = edge(n); break;
    case 3: v = rnd() % 32; break;
    case 4: v = (1ull << (rnd() % n)) | (rnd() % 4 == 0 ? 1ull << (rnd() % n) : 0); break;
    case 5: v = -(rnd() % 32); break;
    default: v = rnd(); break;
  }
  return v & mask_of(n);
}

static uint64_t count(int n) {
  const uint64_t e[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, (uint64_t)n - 1,
                        (uint64_t)n, (uint64_t)n + 1};
  uint64_t r = rnd() % 3;
  if (r == 0) return e[rnd() % (sizeof e / sizeof e[0])];
  if (r == 1) return rnd() % 256;
  return rnd() % (uint64_t)(n + 2);
}

/* ---- BCD in compatibility mode ---- */
extern void call32(uint32_t entry, uint32_t *io);
extern char stub_daa[], stub_das[], stub_aaa[], stub_aas[];
#define AAMD_IMMS(X) X(10) X(0) X(1) X(2) X(7) X(16) X(100) X(255)
#define DECL(v) extern char stub_aam_##v[], stub_aad_##v[];
AAMD_IMMS(DECL)
#define AAM_PTR(v) stub_aam_##v,
#define AAD_PTR(v) stub_aad_##v,
#define IMM_VAL(v) v,
static char *const AAM_STUBS[] = {AAMD_IMMS(AAM_PTR)};
static char *const AAD_STUBS[] = {AAMD_IMMS(AAD_PTR)};
static const uint32_t AAMD_VALUES[] = {AAMD_IMMS(IMM_VAL)};

static uint32_t io32[4] __attribute__((aligned(16)));
static void run32(Case *k, char *stub) {
  io32[0] = (uint32_t)k->a;
  io32[1] = (uint32_t)k->fin;
  io32[2] = io32[3] = 0;
  call32((uint32_t)(uintptr_t)stub, io32);
  k->r = io32[2] & 0xffff;
  k->fout = io32[3];
}
static void run_daa(Case *k) { run32(k, stub_daa); }
static void run_das(Case *k) { run32(k, stub_das); }
static void run_aaa(Case *k) { run32(k, stub_aaa); }
static void run_aas(Case *k) { run32(k, stub_aas); }
static void run_aam(Case *k) { run32(k, AAM_STUBS[k->c % 8]); k->b = AAMD_VALUES[k->c % 8]; }
static void run_aad(Case *k) { run32(k, AAD_STUBS[k->c % 8]); k->b = AAMD_VALUES[k->c % 8]; }
/* DAA/DAS/AAA/AAS depend on AL, CF and AF (and AH only as a carry target): all 1024
 * combinations are recorded; AAM on AL and the immediate: all 2048. */
static const Form BCD[] = {{"daa", 8, run_daa, G_BCD_ALL, 1024}, {"das", 8, run_das, G_BCD_ALL, 1024},
  {"aaa", 16, run_aaa, G_BCD_ALL, 1024}, {"aas", 16, run_aas, G_BCD_ALL, 1024},
  {"aam", 16, run_aam, G_AAM_ALL, 2048}, {"aad", 16, run_aad, G_AAMD, 0}, {0, 0, 0, 0, 0}};

/* ---- families ---- */
typedef struct {
  const char *name;
  const Form *forms;
  const char *features[4]; /* /proc/cpuinfo flags required */
} Family;

static const Family FAMILIES[] = {
  {"arith", ARITH, {0}},
  {"unary", UNARY, {0}},
  {"shift", SHIFT, {0}},
  {"shiftd", SHIFTD, {0}},
  {"muldiv", MULDIV, {0}},
  {"bittest", BITTEST, {0}},
  {"bitscan", BITSCAN, {0}},
  {"bitcount", BITCOUNT, {"popcnt", "abm", "bmi1", 0}},
  {"bmi1", BMI1, {"bmi1", 0}},
  {"bmi2", BMI2, {"bmi2", 0}},
  {"adx", ADX, {"adx", 0}},
  {"swap", SWAP, {"movbe", 0}},
  {"atomic", ATOMIC, {0}},
  {"crc32", CRC32, {"sse4_2", 0}},
  {"bcd", BCD, {0}},
  {"convert", CONVERT, {0}},
  {"cond", COND, {0}},
  {"chain", CHAIN, {0}},
};

static char cpu_flags[8200];
static void read_cpu_flags(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[8192];
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "flags", 5) == 0) {
      char *colon = strchr(line, ':');
      snprintf(cpu_flags, sizeof cpu_flags, " %s", colon ? colon + 1 : line);
      char *nl = strchr(cpu_flags, '\n');
      if (nl) *nl = ' ';
      break;
    }
  }
  fclose(f);
}
static int has_flag(const char *name) {
  char pat[64];
  snprintf(pat, sizeof pat, " %s ", name);
  return strstr(cpu_flags, pat) != NULL;
}

/* ---- faults ---- */
static sigjmp_buf jb;
static void on_fault(int sig) { siglongjmp(jb, sig); }

static void gen_case(const Form *fm, Case *k, int i) {
  int n = fm->size ? fm->size : 64;
  memset(k, 0, sizeof *k);
  k->fin = (rnd() & ARITH_FLAGS) | 0x202;
  if (i < 4) k->fin = i & 1 ? (0x202 | ARITH_FLAGS) : 0x202; /* all flags clear / set */
  switch (fm->gen) {
    case G_AB: k->a = val(n); k->b = val(n); break;
    case G_A: k->a = val(n); break;
    case G_SHIFT: k->a = val(n); k->c = count(n); break;
    case G_SHIFTD: k->a = val(n); k->b = val(n); k->c = count(n); break;
    case G_MUL1: k->a = val(n); k->b = val(n); k->c = rnd() & mask_of(n); break;
    case G_IMUL3: k->b = val(n); k->c = rnd(); break;
    case G_DIV:
    case G_IDIV: {
      uint64_t d = rnd() % 20 == 0 ? 0 : val(n);
      uint64_t lo = val(n), hi;
      if (fm->gen == G_DIV) {
        hi = (rnd() % 4 != 0 && d != 0) ? val(n) % d : val(n);
      } else {
        hi = rnd() % 4 != 0 ? ((lo >> (n - 1)) & 1 ? mask_of(n) : 0) : val(n);
      }
      k->a = lo; k->b = hi & mask_of(n); k->c = d;
      break;
    }
    case G_BITOFF: k->a = val(n); k->b = rnd() % 3 == 0 ? count(n) : rnd() % (uint64_t)(2 * n); break;
    case G_SCAN:
      k->a = val(n);
      k->b = rnd() % 6 == 0 ? 0 : val(n);
      k->c = val(n);
      break;
    case G_BEXTR: {
      uint64_t start = count(n), len = count(n);
      k->a = val(n);
      k->b = ((start & 0xff) | ((len & 0xff) << 8) | (rnd() % 4 == 0 ? rnd() << 16 : 0)) & mask_of(n);
      k->c = val(n);
      break;
    }
    case G_INDEX:
      k->a = val(n);
      k->b = (count(n) | (rnd() % 4 == 0 ? rnd() << 8 : 0)) & mask_of(n);
      k->c = val(n);
      break;
    case G_RORX: k->a = val(n); k->b = rnd(); break;
    case G_CMPXCHG:
      k->a = val(n); k->b = val(n);
      k->c = rnd() % 2 ? k->a : val(n);
      break;
    case G_BCD: k->a = rnd() % 3 == 0 ? edge(16) & 0xffff : rnd() & 0xffff; break;
    case G_AAMD: k->a = rnd() & 0xffff; k->c = rnd(); break;
    case G_BCD_ALL: {
      uint64_t ah = rnd() & 0xff00;
      k->a = ah | (uint64_t)(i & 0xff);
      k->fin = (rnd() & ARITH_FLAGS & ~0x11ull) | (uint64_t)((i >> 8) & 1) | ((uint64_t)((i >> 9) & 1) << 4) | 0x202;
      break;
    }
    case G_AAM_ALL: k->a = (rnd() & 0xff00) | (uint64_t)(i & 0xff); k->c = (uint64_t)(i >> 8); break;
    case G_ABC: k->a = val(n); k->b = val(n); k->c = val(n); break;
    case G_FLAGS: {
      /* The first 64 cases enumerate every combination of CF, PF, AF, ZF, SF, OF. */
      static const int pos[6] = {0, 2, 4, 6, 7, 11};
      uint64_t f = 0, bits = (uint64_t)i;
      for (int j = 0; j < 6; j++) f |= ((bits >> j) & 1) << pos[j];
      k->fin = (i < 64 ? f : rnd() & ARITH_FLAGS) | 0x202;
      break;
    }
  }
  if (fm->run == run_crc328 || fm->run == run_crc3216 || fm->run == run_crc3232) {
    k->a = val(32);
  }
}

/* Runs one case; a SIGFPE (#DE) lands here through siglongjmp and is recorded as fault 1. */
static void run_guarded(const Form *fm, Case *k) {
  if (sigsetjmp(jb, 1) == 0) {
    fm->run(k);
  } else {
    k->r = k->d = 0;
    k->fout = k->fin;
    k->fault = 1;
  }
}

static void put32(FILE *f, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  fwrite(b, 1, 4, f);
}
static void put64(FILE *f, uint64_t v) {
  put32(f, (uint32_t)v);
  put32(f, (uint32_t)(v >> 32));
}

/* Can this process run 32-bit code (kernel IA-32 emulation)? Probe once with DAA. */
static int compat_mode_works(void) {
  static Case k;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, &old);
  sigaction(SIGBUS, &sa, NULL);
  int ok = 0;
  if (sigsetjmp(jb, 1) == 0) {
    k.a = 0x0f;
    k.fin = 0x202;
    run_daa(&k);
    ok = k.r == 0x15;
  }
  sigaction(SIGSEGV, &old, NULL);
  signal(SIGBUS, SIG_DFL);
  return ok;
}

static int run_family(const Family *fam, const char *outdir) {
  if (fam->forms == BCD && !compat_mode_works()) {
    fprintf(stderr, "oracle: skipping family %s: cannot run 32-bit code (no IA-32 emulation?)\n", fam->name);
    return 0;
  }
  for (int i = 0; fam->features[i]; i++) {
    if (!has_flag(fam->features[i])) {
      fprintf(stderr, "oracle: skipping family %s: host CPU lacks '%s'\n", fam->name, fam->features[i]);
      return 0;
    }
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.bin", outdir, fam->name);
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "oracle: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  uint32_t nforms = 0;
  while (fam->forms[nforms].name) nforms++;
  fwrite("TOF1", 1, 4, f);
  put32(f, 1);
  put32(f, nforms);
  rng_state = seed_of(fam->name);
  for (uint32_t fi = 0; fi < nforms; fi++) {
    const Form *fm = &fam->forms[fi];
    uint8_t len = (uint8_t)strlen(fm->name);
    fwrite(&len, 1, 1, f);
    fwrite(fm->name, 1, len, f);
    uint8_t size = (uint8_t)fm->size;
    fwrite(&size, 1, 1, f);
    const int ncases = fm->cases ? fm->cases : CASES;
    put32(f, (uint32_t)ncases);
    for (int i = 0; i < ncases; i++) {
      static Case k; /* static: survives siglongjmp */
      gen_case(fm, &k, i);
      run_guarded(fm, &k);
      int crc = fm->run == run_crc328 || fm->run == run_crc3216 || fm->run == run_crc3232;
      uint64_t om = crc ? 0xffffffffull : mask_of(fm->size);
      put64(f, k.a);
      put64(f, k.b);
      put64(f, k.c);
      put32(f, (uint32_t)k.fin & ARITH_FLAGS);
      put64(f, k.r & om);
      put64(f, k.d & om);
      put32(f, (uint32_t)k.fout & ARITH_FLAGS);
      put32(f, k.fault);
    }
  }
  fclose(f);
  printf("oracle: %-9s %3u forms -> %s\n", fam->name, nforms, path);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s OUTDIR [family...]\n", argv[0]);
    return 2;
  }
  read_cpu_flags();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGFPE, &sa, NULL);
  int rc = 0;
  for (size_t i = 0; i < sizeof FAMILIES / sizeof FAMILIES[0]; i++) {
    int wanted = argc == 2;
    for (int j = 2; j < argc; j++) wanted |= strcmp(argv[j], FAMILIES[i].name) == 0;
    if (wanted) rc |= run_family(&FAMILIES[i], argv[1]);
  }
  return rc;
}
