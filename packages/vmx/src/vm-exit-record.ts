/**
 * One VM exit as the processor reports it: the VM-exit information fields of SDM 25.9, plus the
 * few register values the routing of an exit needs that those fields do not carry (the MSR
 * index of RDMSR/WRMSR, the value written by MOV to CR0/CR3/CR4, EDX:EAX of XSAVES/XRSTORS,
 * EAX of ENCLS). One record is reused for every exit: no allocation on the exit path.
 */
export class VmExitRecord {
  /** Basic exit reason (bits 15:0 of the exit-reason field). */
  reason = 0;
  /** Bits 31:16 of the exit-reason field (e.g. bit 31: VM-entry failure). */
  reasonFlags = 0;
  /** Exit qualification, low 32 bits. */
  qualLo = 0;
  /** Exit qualification, high 32 bits. */
  qualHi = 0;
  /** Guest-linear address, low half. */
  linearLo = 0;
  /** Guest-linear address, high half. */
  linearHi = 0;
  /** Guest-physical address (EPT violations and misconfigurations); below 2^52. */
  guestPhysical = 0;
  /** VM-exit instruction length. */
  instructionLength = 0;
  /** VM-exit instruction information. */
  instructionInfo = 0;
  /** VM-exit interruption information. */
  interruptionInfo = 0;
  /** VM-exit interruption error code. */
  interruptionErrorCode = 0;
  /** IDT-vectoring information. */
  idtVectoringInfo = 0;
  /** IDT-vectoring error code. */
  idtVectoringErrorCode = 0;
  /** I/O RCX/RSI/RDI/RIP fields (SMIs after I/O only), low halves. */
  ioRcx = 0;
  /** ECX at the exit (the MSR index of RDMSR/WRMSR). */
  ecx = 0;
  /** EAX at the exit (ENCLS leaf, low half of the XSAVES/XRSTORS mask). */
  eax = 0;
  /** EDX at the exit (high half of the XSAVES/XRSTORS mask). */
  edx = 0;
  /** Source value of a MOV to CR0/CR3/CR4/CR8, low half. */
  crValueLo = 0;
  /** Source value of a MOV to CR0/CR3/CR4/CR8, high half. */
  crValueHi = 0;
  /** IA32_XSS at an XSAVES/XRSTORS exit, low half (all ones when the processor does not say). */
  xssLo = 0xffff_ffff;
  /** IA32_XSS at an XSAVES/XRSTORS exit, high half. */
  xssHi = 0xffff_ffff;
  /** VMREAD/VMWRITE exits: the field-encoding operand (bits 31:0 of its register). */
  vmcsEncoding = 0;
  /**
   * For EPT violations and misconfigurations in a nested run: true when the fault lies in L1's
   * EPT12 (it becomes L1's exit), false when it is a miss of L0's shadow EPT02 or of EPT01.
   */
  inEpt12 = false;

  /** Resets every field to 0 / false. */
  clear(): void {
    this.reason = 0;
    this.reasonFlags = 0;
    this.qualLo = 0;
    this.qualHi = 0;
    this.linearLo = 0;
    this.linearHi = 0;
    this.guestPhysical = 0;
    this.instructionLength = 0;
    this.instructionInfo = 0;
    this.interruptionInfo = 0;
    this.interruptionErrorCode = 0;
    this.idtVectoringInfo = 0;
    this.idtVectoringErrorCode = 0;
    this.ioRcx = 0;
    this.ecx = 0;
    this.eax = 0;
    this.edx = 0;
    this.crValueLo = 0;
    this.crValueHi = 0;
    this.vmcsEncoding = 0;
    this.xssLo = 0xffff_ffff;
    this.xssHi = 0xffff_ffff;
    this.inEpt12 = false;
  }
}
