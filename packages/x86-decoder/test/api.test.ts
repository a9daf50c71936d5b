import { describe, expect, it } from "vitest";
import {
  Access,
  AttFormatter,
  Decoder,
  decode,
  Instruction,
  IntelFormatter,
  InvalidReason,
  Opcode,
  OperandType,
  opcodeMnemonic,
  Prefix,
  REGISTER_NAMES,
  Reg,
  RFlag,
} from "../src/index.js";

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("decode() (the convenience API, as in the README)", () => {
  it("decodes one instruction into a plain object", () => {
    const r = decode(bytes(0x48, 0x8b, 0x44, 0x24, 0x10), { bitness: 64 });
    expect(r).toMatchObject({ length: 5, mnemonic: "mov", invalid: false, text: "mov rax,[rsp+10h]" });
    expect(r.opcode).toBe(Opcode.Mov_Gv_Ev);
    expect(opcodeMnemonic(r.opcode)).toBe("mov");
    expect(opcodeMnemonic(0)).toBe("invalid");
    expect(r.operandSize).toBe(64);
  });

  it("takes a mode, an address and an offset", () => {
    const code = bytes(0x90, 0xe8, 0x00, 0x00, 0x00, 0x00);
    expect(decode(code, { bitness: 64, ip: 0x401000, offset: 1 }).text).toBe("call 0000000000401005h");
    expect(decode(bytes(0x8b, 0x46, 0x08), { bitness: 16 }).text).toBe("mov ax,[bp+8]");
    expect(decode(bytes(0x40), { bitness: 32 }).text).toBe("inc eax");
  });

  it("reports invalid encodings with a length instead of throwing", () => {
    expect(decode(bytes(0xf0, 0x01, 0xc8))).toMatchObject({ invalid: true, length: 3, text: "(bad)" });
    expect(decode(bytes(0x0f, 0x04, 0x90))).toMatchObject({ invalid: true, mnemonic: "invalid", length: 3 });
  });
});

describe("Decoder (the streaming API, as in the README)", () => {
  it("decodes a function into one reused instruction", () => {
    const code = bytes(0x55, 0x48, 0x89, 0xe5, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x5d, 0xc3);
    const decoder = new Decoder(64, code, 0x401000);
    const ins = new Instruction();
    const intel = new IntelFormatter();
    const att = new AttFormatter();
    const out: string[] = [];
    while (decoder.canDecode) {
      decoder.decodeOut(ins);
      out.push(`${intel.format(ins)} | ${att.format(ins)}`);
    }
    expect(out).toEqual([
      "push rbp | push %rbp",
      "mov rbp,rsp | mov %rsp,%rbp",
      "call 0000000000401009h | call 0x0000000000401009",
      "pop rbp | pop %rbp",
      "ret | ret",
    ]);
  });

  it("exposes operands, prefixes and sizes", () => {
    const d = new Decoder(64, bytes(0x64, 0x48, 0x8b, 0x84, 0xc8, 0x10, 0x00, 0x00, 0x00));
    const ins = new Instruction();
    d.decodeOut(ins);
    expect(ins.length).toBe(9);
    expect(ins.prefixes & Prefix.Segment).toBeTruthy();
    expect(ins.segmentPrefix).toBe(Reg.FS);
    expect(ins.opCount).toBe(2);
    expect(ins.opType[0]).toBe(OperandType.Register);
    expect(REGISTER_NAMES[ins.opReg[0]!]).toBe("rax");
    expect(ins.opType[1]).toBe(OperandType.Memory);
    expect(REGISTER_NAMES[ins.memBase]).toBe("rax");
    expect(REGISTER_NAMES[ins.memIndex]).toBe("rcx");
    expect(ins.memScale).toBe(8);
    expect(ins.memDisp).toBe(0x10);
    expect(ins.memSize).toBe(8);
    expect(ins.operandSize).toBe(64);
    expect(ins.addressSize).toBe(64);
  });

  it("gives metadata: access, flags, CPUID feature, control flow, privilege", () => {
    const d = new Decoder(64, bytes(0x01, 0xc8, 0x66, 0x0f, 0x58, 0xc1, 0x74, 0x00, 0xf4, 0x0f, 0x42, 0xc1));
    const ins = new Instruction();
    d.decodeOut(ins); // add eax,ecx
    expect(ins.access(0)).toBe(Access.ReadWrite);
    expect(ins.access(1)).toBe(Access.Read);
    expect(ins.flagsWritten).toBe(RFlag.O | RFlag.S | RFlag.Z | RFlag.A | RFlag.P | RFlag.C);
    expect(ins.flowKind).toBe("next");
    d.decodeOut(ins); // addpd xmm0,xmm1
    expect(ins.cpuidFeature).toBe("SSE2");
    d.decodeOut(ins); // je
    expect(ins.flowKind).toBe("jcc");
    expect(ins.flagsRead).toBe(RFlag.Z);
    d.decodeOut(ins); // hlt
    expect(ins.privileged).toBe(true);
    d.decodeOut(ins); // cmovb eax,ecx
    expect(ins.access(0)).toBe(Access.CondWrite);
    expect(ins.flagsRead).toBe(RFlag.C);
  });

  it("names why an instruction is invalid", () => {
    const ins = new Instruction();
    const reason = (b: Uint8Array, bits: 16 | 32 | 64 = 64) => {
      new Decoder(bits, b).decodeOut(ins);
      return ins.invalidReason;
    };
    expect(reason(bytes(0x0f, 0x04, 0x00))).toBe(InvalidReason.NoSuchOpcode);
    expect(reason(bytes(0xf0, 0x01, 0xc8))).toBe(InvalidReason.LockNotAllowed);
    expect(reason(bytes(0x48, 0xb8, 0x11))).toBe(InvalidReason.NeedMoreBytes);
    expect(reason(new Uint8Array(20).fill(0x66))).toBe(InvalidReason.TooLong);
    expect(ins.length).toBe(15);
    expect(reason(bytes(0x06, 0x00), 64)).toBe(InvalidReason.NoSuchOpcode);
    expect(reason(bytes(0x06), 32)).toBe(InvalidReason.None);
  });

  it("throws only on caller errors", () => {
    expect(() => new Decoder(8 as 16, bytes(0x90))).toThrow(RangeError);
    expect(() => new Decoder(64, bytes(0x90), 0, 2)).toThrow(RangeError);
  });

  it("handles addresses above 2^53 as two halves", () => {
    const d = new Decoder(64, bytes(0xeb, 0xfe));
    d.setIp(0xfffff000, 0xffffffff);
    const ins = new Instruction();
    d.decodeOut(ins);
    expect(new IntelFormatter().format(ins)).toBe("jmp short 0FFFFFFFFFFFFF000h");
    expect(d.ipHi).toBe(0xffffffff);
    expect(d.ipLo).toBe(0xfffff002);
  });
});

describe("formatter options", () => {
  const ins = new Instruction();
  new Decoder(64, bytes(0x48, 0x83, 0xec, 0x28, 0xe8, 0, 0, 0, 0), 0x1000).decodeOut(ins);

  it("hex style and case", () => {
    expect(new IntelFormatter().format(ins)).toBe("sub rsp,28h");
    expect(new IntelFormatter({ hexStyle: "prefix" }).format(ins)).toBe("sub rsp,0x28");
    expect(new IntelFormatter({ upperCase: true }).format(ins)).toBe("SUB RSP,28H");
    expect(new AttFormatter().format(ins)).toBe("sub $0x28,%rsp");
    expect(new AttFormatter({ upperCaseHex: false, hexStyle: "suffix" }).format(ins)).toBe("sub $28h,%rsp");
  });

  it("symbol resolver", () => {
    const call = new Instruction();
    new Decoder(64, bytes(0xe8, 0, 0, 0, 0), 0x1000).decodeOut(call);
    const resolver = (_lo: number, _hi: number, address: number) => (address === 0x1005 ? "main" : undefined);
    expect(new IntelFormatter({ symbolResolver: resolver }).format(call)).toBe("call main");
    expect(new AttFormatter({ symbolResolver: resolver }).format(call)).toBe("call main");
  });
});
