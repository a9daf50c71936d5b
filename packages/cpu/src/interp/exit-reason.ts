/**
 * The basic exit reasons (SDM vol. 3, appendix C "VMX Basic Exit Reasons") under the name this
 * package has always exported: `@turtles/vmx`'s `ExitReason`, one table for both packages.
 */
export { ExitReason as VmExitReason } from "@turtles/vmx";
