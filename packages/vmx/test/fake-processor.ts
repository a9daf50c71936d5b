import { createRamSpace, type PhysicalAddressSpace } from "@turtles/memory";
import {
  CpuMode,
  DEFAULT_VMX_FEATURES,
  type GuestStateAccess,
  type MsrAccess,
  VmxCapabilities,
  type VmxProcessor,
} from "../src/index.js";

export const caps = new VmxCapabilities(DEFAULT_VMX_FEATURES);

/** A minimal processor for tests: state in maps, one memory operand, flags recorded. */
export class FakeCpu implements VmxProcessor, GuestStateAccess, MsrAccess {
  readonly memory: PhysicalAddressSpace;
  cpuMode: CpuMode = CpuMode.Long64;
  privilege = 0;
  cr0Value = 0x8000_0033;
  cr4Value = 0x2020;
  movSs = false;
  cf = false;
  zf = false;
  flagsSet = 0;
  /** The memory operand (words), or null to make the access fault. */
  operand: number[] | null = [0, 0, 0, 0];
  written: [number, number] | null = null;
  writeFaults = false;
  readonly msrs = new Map<number, [number, number]>([[0x3a, [5, 0]]]);
  readonly state = new Map<number, [number, number]>();
  readonly invalidations: string[] = [];

  constructor(memory: PhysicalAddressSpace | number = 0x10_0000) {
    this.memory = typeof memory === "number" ? createRamSpace(memory).space : memory;
  }
  mode(): CpuMode {
    return this.cpuMode;
  }
  cpl(): number {
    return this.privilege;
  }
  cr0(): number {
    return this.cr0Value;
  }
  cr4(): number {
    return this.cr4Value;
  }
  readMsr(index: number, out: Uint32Array): boolean {
    const v = this.msrs.get(index);
    if (v === undefined) return false;
    out[0] = v[0];
    out[1] = v[1];
    return true;
  }
  writeMsr(index: number, lo: number, hi: number): boolean {
    if (index === 0xdead) return false; // an MSR whose write #GPs
    this.msrs.set(index, [lo >>> 0, hi >>> 0]);
    return true;
  }
  blockedByMovSs(): boolean {
    return this.movSs;
  }
  setVmxFlags(cf: boolean, zf: boolean): void {
    this.cf = cf;
    this.zf = zf;
    this.flagsSet++;
  }
  readOperand(out: Uint32Array, words: 1 | 2 | 4): boolean {
    if (this.operand === null) return false;
    for (let i = 0; i < words; i++) out[i] = this.operand[i] ?? 0;
    return true;
  }
  writeOperand(lo: number, hi: number): boolean {
    if (this.writeFaults) return false;
    this.written = [lo >>> 0, hi >>> 0];
    return true;
  }
  invalidateEpt(type: number, lo: number, hi: number): void {
    this.invalidations.push(`ept ${type} ${lo.toString(16)}:${hi.toString(16)}`);
  }
  invalidateVpid(type: number, vpid: number, lo: number, hi: number): void {
    this.invalidations.push(`vpid ${type} ${vpid} ${lo.toString(16)}:${hi.toString(16)}`);
  }
  readState(field: number, out: Uint32Array): void {
    const v = this.state.get(field) ?? [0, 0];
    out[0] = v[0];
    out[1] = v[1];
  }
  writeState(field: number, lo: number, hi: number): void {
    this.state.set(field, [lo >>> 0, hi >>> 0]);
  }
  /** Sets the 64-bit memory operand to a number. */
  pointer(addr: number): void {
    this.operand = [addr >>> 0, Math.floor(addr / 2 ** 32) >>> 0, 0, 0];
  }
}
