/**
 * Operand kinds of the definition table (`defs/instructions.txt`).
 *
 * Each name follows the Intel SDM opcode-map notation (Appendix A.2 of Vol. 2): a letter for where
 * the operand comes from (G = ModRM.reg, E = ModRM.r/m, I = immediate, ...) and a size suffix
 * (b = byte, w = word, d = dword, q = qword, v = operand size, y = 32/64, x = vector length).
 * The generator turns names into these numbers and the decoder switches on them, so this list is
 * the one contract between the two: append only.
 */
export const OPERAND_KIND_NAMES = [
  "none",
  // General registers from ModRM.reg
  "Gb",
  "Gw",
  "Gd",
  "Gq",
  "Gv",
  "Gy",
  // Register or memory from ModRM.r/m (size of the memory operand in the suffix)
  "Eb",
  "Ew",
  "Ed",
  "Eq",
  "Ev",
  "Ey",
  "Ewv", // register sized by operand size, memory always a word (mov Sw / sldt / str / lar)
  // Registers only from ModRM.r/m
  "Rv",
  "Ry",
  "Rd",
  "Rq",
  "Rcr", // 32-bit register outside 64-bit mode, 64-bit inside (mov to/from CRn/DRn)
  // Memory only from ModRM.r/m
  "M", // no size
  "Mb",
  "Mw",
  "Md",
  "Mq",
  "Mt", // 80-bit
  "Mdq", // 128-bit
  "Mqq", // 256-bit
  "Mv",
  "My",
  "Mp", // far pointer 16:16 / 16:32 / 16:64
  "Mfw", // fword
  "Ma", // BOUND pair: 2 x operand size
  "Mx", // 128/256/512 by vector length
  "M512", // 512-byte area (no size shown)
  // Segment, control, debug, test registers
  "Sw",
  "Cd",
  "Dd",
  "Td",
  // MMX
  "Pq",
  "Qq",
  "Qd",
  "Nq",
  "Pd", // movd mm, r/m32 target
  // XMM/YMM/ZMM from ModRM.reg (V), ModRM.r/m (W = reg or memory, U = register only), VEX.vvvv (H)
  "V",
  "Vx",
  "Vqq",
  "W", // xmm or 128-bit memory
  "Wx", // vector by L or memory of that size
  "Wb",
  "Ww",
  "Wd",
  "Wq",
  "Wqq",
  "U",
  "Ux",
  "H",
  "Hx",
  // General register from VEX.vvvv
  "By",
  // Immediates
  "Ib",
  "Ibs", // imm8 sign-extended to operand size
  "Iw",
  "Iz", // imm16/imm32, sign-extended to 64 with REX.W
  "Iv", // imm16/32/64 (mov r, imm)
  "Ib2", // second imm8 (enter, extrq, insertq)
  "I1", // the constant 1 (shift by one)
  "Ibx", // imm8 with the top half selecting a register (VEX is4): the register
  // Relative branch targets, far pointers, absolute offsets
  "Jb",
  "Jz",
  "Ap",
  "Ob",
  "Ov",
  // Fixed registers
  "AL",
  "CL",
  "AX",
  "DX",
  "eAX", // AX/EAX by operand size (16/32)
  "rAX", // AX/EAX/RAX by operand size
  "ES",
  "CS",
  "SS",
  "DS",
  "FS",
  "GS",
  "ST0", // implicit st
  "STi", // st(i) from ModRM.r/m
  "XMM0", // implicit xmm0 (blendv)
  // Register from the low 3 bits of the opcode (+ REX.B)
  "Zb",
  "Zv",
  "Zq", // push/pop: 64-bit in long mode (16 with 66)
  // String operands
  "Xb", // [rsi] with segment override
  "Xv",
  "Yb", // es:[rdi]
  "Yv",
  "Xlat", // [rbx+al] shown as [rbx]
  // Bound registers
  "BNDr", // from ModRM.reg
  "BNDm", // bound register or memory from ModRM.r/m
  // Mask registers (AVX-512)
  "KR", // k from ModRM.reg
  "KM", // k or memory from ModRM.r/m
  "KH", // k from VEX.vvvv
  "KU", // k register only from ModRM.r/m
  "Gyr", // 32/64 by W from ModRM.reg (VEX GPR destination)
  "Eyr", // 32/64 by W from ModRM.r/m (VEX GPR source)
  "Md2", // memory sized 2x operand size (cmpxchg8b / 16b)
  "Wss", // xmm or dword memory that is a scalar of the vector instruction (alias of Wd)
  "Wsd", // xmm or qword memory (alias of Wq)
  "Mdq2", // 128-bit memory, vector instruction (alias of Mdq)
  "Wh", // half vector: xmm/ymm by L (for ymm: xmm) or memory of half size
  "Vh", // half vector register (vcvtph2ps destination etc.)
  "Uh",
  "Wq4", // quarter vector (pmovzxbd)
  "Wo8", // eighth vector (pmovzxbq)
  "Vxmm", // always xmm from ModRM.reg in a VEX instruction
  "Wxmm", // always xmm or memory of 128 bits
  "Uxmm",
  "Hxmm",
  "Ibr", // imm8 shown as is, register in [7:4]
  "VSIBx", // vector SIB memory, index always xmm
  "VSIBy", // vector SIB memory, index xmm/ymm/zmm by vector length
  "VSIBz", // (reserved)
  "Mw2", // memory word, register by operand size (for movzx/movsx? not used)
  "Ed64", // 32-bit in legacy modes, r/m64 in 64-bit mode (no REX.W needed)
  "Gd64",
  "Mb16", // byte-sized memory accessed with 16 bytes (no size shown)
  "Wxl", // vector by L or memory of L/2 (vcvtps2pd)
  "Edw", // 32-bit register or 16-bit memory (pinsrw, pextrw)
  "Edb", // 32-bit register or 8-bit memory (pinsrb, pextrb)
  "Gd64r", // 32-bit register outside 64-bit mode, 64-bit inside, from ModRM.reg (invept, vmread)
  "Menv", // x87 environment: 14 or 28 bytes by operand size
  "Mstate", // x87 state: 94 or 108 bytes by operand size
  "aAX", // AX/EAX/RAX by address size (SVM instructions)
  "EAX", // always eax
  "ECX", // always ecx
  "Ezv", // word register/memory with 16-bit operand size, else dword (MOVSXD)
  "Ibrx", // register from imm8[7:4], always xmm (FMA4 scalar)
  "Ga", // general register from ModRM.reg sized by the address size (MOVDIR64B, ENQCMD)
  "VSIBh", // vector SIB memory, index half the vector length (EVEX dword-index gathers of qwords)
  "Ib4", // the low 4 bits of the last byte (VPERMIL2PS/PD), which also holds an is4 register
  "Tr", // AMX tile register from ModRM.reg
  "Tm", // AMX tile register from ModRM.r/m (register form)
  "Th", // AMX tile register from VEX.vvvv; the three tiles must differ
  "Msib", // memory that needs a SIB byte (AMX tile loads and stores)
  "Ra", // general register from ModRM.r/m sized by the address size (UMONITOR)
  "Id", // imm32, whatever the operand size (XOP BEXTR, LWPINS)
] as const;

/** One operand kind name. */
export type OperandKindName = (typeof OPERAND_KIND_NAMES)[number];
