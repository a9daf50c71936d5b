/* Instantiations of the runners and the table of families and forms. */

SIZES4(MK_BIN, add) SIZES4(MK_BIN, adc) SIZES4(MK_BIN, sub) SIZES4(MK_BIN, sbb)
SIZES4(MK_BIN, cmp) SIZES4(MK_BIN, and) SIZES4(MK_BIN, or) SIZES4(MK_BIN, xor)
SIZES4(MK_BIN, test)
SIZES4(MK_UN, inc) SIZES4(MK_UN, dec) SIZES4(MK_UN, neg) SIZES4(MK_UN, not)
SIZES4(MK_SH, shl) SIZES4(MK_SH, shr) SIZES4(MK_SH, sar) SIZES4(MK_SH, rol)
SIZES4(MK_SH, ror) SIZES4(MK_SH, rcl) SIZES4(MK_SH, rcr)
SIZES3(MK_SHD, shld) SIZES3(MK_SHD, shrd)
SIZES4(MK_MUL1, mul) SIZES4(MK_MUL1, imul)
SIZES3(MK_BIN, imul) /* two-operand: run_imul16 ... */
SIZES3(MK_IMUL3, imul)
SIZES4(MK_DIV, div) SIZES4(MK_DIV, idiv)
SIZES3(MK_BIN, bt) SIZES3(MK_BIN, bts) SIZES3(MK_BIN, btr) SIZES3(MK_BIN, btc)
SIZES3(MK_BIN, bsf) SIZES3(MK_BIN, bsr)
SIZES3(MK_BIN, popcnt) SIZES3(MK_BIN, lzcnt) SIZES3(MK_BIN, tzcnt)
SIZES2(MK_VEX3, andn) SIZES2(MK_VEX3, bextr) SIZES2(MK_VEX2, blsi) SIZES2(MK_VEX2, blsmsk)
SIZES2(MK_VEX2, blsr)
SIZES2(MK_VEX3, bzhi) SIZES2(MK_VEX3, pdep) SIZES2(MK_VEX3, pext) SIZES2(MK_MULX, mulx)
SIZES2(MK_RORX, rorx) SIZES2(MK_VEX3, sarx) SIZES2(MK_VEX3, shlx) SIZES2(MK_VEX3, shrx)
SIZES2(MK_BIN, adcx) SIZES2(MK_BIN, adox)
SIZES2(MK_BSWAP, bswap) SIZES3(MK_MOVBE, movbe)
SIZES4(MK_CMPXCHG, cmpxchg) SIZES4(MK_XADD, xadd)
SIZES4(MK_CRC, crc32)
SIZES2(MK_CHAIN, CHAIN1) SIZES2(MK_CHAIN, CHAIN2) SIZES2(MK_CHAIN, CHAIN3) SIZES2(MK_CHAIN, CHAIN4)
SIZES2(MK_CHAIN_CL, CHAIN5)
MK_CONV(cbw, "cbtw") MK_CONV(cwde, "cwtl") MK_CONV(cdqe, "cltq")
MK_CONV(cwd, "cwtd") MK_CONV(cdq, "cltd") MK_CONV(cqo, "cqto")

/* How a form's inputs are drawn. */
enum Gen {
  G_AB,      /* a, b of the operand size */
  G_A,       /* a only */
  G_SHIFT,   /* a, count c in 0..255 with edges */
  G_SHIFTD,  /* a, b, count c */
  G_MUL1,    /* a, b, c = garbage rDX */
  G_IMUL3,   /* b, c selects the immediate */
  G_DIV,     /* a = low, b = high dividend, c = divisor; mostly no #DE */
  G_IDIV,
  G_BITOFF,  /* a, b = bit offset (0 .. 2*size) */
  G_SCAN,    /* a = old dest, b = source (often 0 or sparse) */
  G_BEXTR,   /* a, b = control (start, length) */
  G_INDEX,   /* a, b = index 0..255 */
  G_RORX,    /* a, b selects the immediate */
  G_CMPXCHG, /* a = dest, b = src, c = accumulator (half the time equal to dest) */
  G_BCD,     /* a = AX, flags */
  G_AAMD,    /* a = AX, c selects the immediate */
  G_FLAGS,   /* flags only */
  G_ABC,     /* a, b, c of the operand size */
  G_BCD_ALL, /* every AL x CF x AF (case i), random AH */
  G_AAM_ALL, /* every AL x immediate (case i), random AH */
};

typedef struct {
  const char *name;
  int size;
  RunFn run;
  enum Gen gen;
  int cases; /* 0: the default count */
} Form;

#define F4(op, g) {#op "8", 8, run_##op##8, g}, {#op "16", 16, run_##op##16, g}, \
  {#op "32", 32, run_##op##32, g}, {#op "64", 64, run_##op##64, g},
#define F3(op, g) {#op "16", 16, run_##op##16, g}, {#op "32", 32, run_##op##32, g}, \
  {#op "64", 64, run_##op##64, g},
#define F2(op, g) {#op "32", 32, run_##op##32, g}, {#op "64", 64, run_##op##64, g},

static const Form ARITH[] = {F4(add, G_AB) F4(adc, G_AB) F4(sub, G_AB) F4(sbb, G_AB) F4(cmp, G_AB)
  F4(and, G_AB) F4(or, G_AB) F4(xor, G_AB) F4(test, G_AB) {0, 0, 0, 0}};
static const Form UNARY[] = {F4(inc, G_A) F4(dec, G_A) F4(neg, G_A) F4(not, G_A) {0, 0, 0, 0}};
static const Form SHIFT[] = {F4(shl, G_SHIFT) F4(shr, G_SHIFT) F4(sar, G_SHIFT) F4(rol, G_SHIFT)
  F4(ror, G_SHIFT) F4(rcl, G_SHIFT) F4(rcr, G_SHIFT) {0, 0, 0, 0}};
static const Form SHIFTD[] = {F3(shld, G_SHIFTD) F3(shrd, G_SHIFTD) {0, 0, 0, 0}};
static const Form MULDIV[] = {
  {"mul8", 8, run_mul1_8, G_MUL1}, {"mul16", 16, run_mul1_16, G_MUL1},
  {"mul32", 32, run_mul1_32, G_MUL1}, {"mul64", 64, run_mul1_64, G_MUL1},
  {"imul1_8", 8, run_imul1_8, G_MUL1}, {"imul1_16", 16, run_imul1_16, G_MUL1},
  {"imul1_32", 32, run_imul1_32, G_MUL1}, {"imul1_64", 64, run_imul1_64, G_MUL1},
  {"imul2_16", 16, run_imul16, G_AB}, {"imul2_32", 32, run_imul32, G_AB},
  {"imul2_64", 64, run_imul64, G_AB},
  {"imul3_16", 16, run_imul3_16, G_IMUL3}, {"imul3_32", 32, run_imul3_32, G_IMUL3},
  {"imul3_64", 64, run_imul3_64, G_IMUL3},
  F4(div, G_DIV) F4(idiv, G_IDIV) {0, 0, 0, 0}};
static const Form BITTEST[] = {F3(bt, G_BITOFF) F3(bts, G_BITOFF) F3(btr, G_BITOFF)
  F3(btc, G_BITOFF) {0, 0, 0, 0}};
static const Form BITSCAN[] = {F3(bsf, G_SCAN) F3(bsr, G_SCAN) {0, 0, 0, 0}};
static const Form BITCOUNT[] = {F3(popcnt, G_SCAN) F3(lzcnt, G_SCAN) F3(tzcnt, G_SCAN) {0, 0, 0, 0}};
static const Form BMI1[] = {F2(andn, G_AB) F2(bextr, G_BEXTR) F2(blsi, G_SCAN) F2(blsmsk, G_SCAN)
  F2(blsr, G_SCAN) {0, 0, 0, 0}};
static const Form BMI2[] = {F2(bzhi, G_INDEX) F2(pdep, G_AB) F2(pext, G_AB) F2(mulx, G_AB)
  F2(rorx, G_RORX) F2(sarx, G_INDEX) F2(shlx, G_INDEX) F2(shrx, G_INDEX) {0, 0, 0, 0}};
static const Form ADX[] = {F2(adcx, G_AB) F2(adox, G_AB) {0, 0, 0, 0}};
static const Form SWAP[] = {F2(bswap, G_A) F3(movbe, G_AB) {0, 0, 0, 0}};
static const Form ATOMIC[] = {F4(cmpxchg, G_CMPXCHG) F4(xadd, G_AB) {0, 0, 0, 0}};
static const Form CRC32[] = {F4(crc32, G_AB) {0, 0, 0, 0}};
static const Form CONVERT[] = {{"cbw", 16, run_cbw, G_AB}, {"cwde", 32, run_cwde, G_AB},
  {"cdqe", 64, run_cdqe, G_AB}, {"cwd", 16, run_cwd, G_AB}, {"cdq", 32, run_cdq, G_AB},
  {"cqo", 64, run_cqo, G_AB}, {0, 0, 0, 0}};
static const Form COND[] = {{"setcc", 0, run_setcc, G_FLAGS}, {0, 0, 0, 0}};
static const Form CHAIN[] = {
  {"chain1_32", 32, run_CHAIN1_32, G_ABC}, {"chain1_64", 64, run_CHAIN1_64, G_ABC},
  {"chain2_32", 32, run_CHAIN2_32, G_ABC}, {"chain2_64", 64, run_CHAIN2_64, G_ABC},
  {"chain3_32", 32, run_CHAIN3_32, G_ABC}, {"chain3_64", 64, run_CHAIN3_64, G_ABC},
  {"chain4_32", 32, run_CHAIN4_32, G_ABC}, {"chain4_64", 64, run_CHAIN4_64, G_ABC},
  {"chain5_32", 32, run_CHAIN5_32, G_ABC}, {"chain5_64", 64, run_CHAIN5_64, G_ABC}, {0, 0, 0, 0}};
/* BCD forms run in compatibility mode (see compat32.S); their runners live in oracle.c. */
