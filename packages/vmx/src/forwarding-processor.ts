import type { PhysicalMemory } from "@turtles/memory";
import type { ShadowEpt } from "./nested-host.js";
import type { CpuMode, VmxProcessor } from "./processor.js";

/** Forwards a VmxProcessor, except that INVEPT goes to the shadow EPT (one object, reused). */
export class ForwardingProcessor implements VmxProcessor {
  target!: VmxProcessor;
  private readonly ept: ShadowEpt;
  constructor(ept: ShadowEpt) {
    this.ept = ept;
  }
  get memory(): PhysicalMemory {
    return this.target.memory;
  }
  mode(): CpuMode {
    return this.target.mode();
  }
  cpl(): number {
    return this.target.cpl();
  }
  cr0(): number {
    return this.target.cr0();
  }
  cr4(): number {
    return this.target.cr4();
  }
  readMsr(index: number, out: Uint32Array): boolean {
    return this.target.readMsr(index, out);
  }
  blockedByMovSs(): boolean {
    return this.target.blockedByMovSs();
  }
  setVmxFlags(cf: boolean, zf: boolean): void {
    this.target.setVmxFlags(cf, zf);
  }
  readOperand(out: Uint32Array, words: 1 | 2 | 4): boolean {
    return this.target.readOperand(out, words);
  }
  writeOperand(lo: number, hi: number): boolean {
    return this.target.writeOperand(lo, hi);
  }
  invalidateEpt(type: number, lo: number, hi: number): void {
    this.ept.invalidate(type, lo, hi);
    this.target.invalidateEpt(type, lo, hi);
  }
  invalidateVpid(type: number, vpid: number, lo: number, hi: number): void {
    this.target.invalidateVpid(type, vpid, lo, hi);
  }
}
