import { PciFunction, type PciIdentity } from "./pci-function.js";

/** The host bridge's default identity: QEMU's generic PCIe host (Red Hat 1B36:0008), class 06.00.00. */
export const HOST_BRIDGE_IDENTITY: PciIdentity = {
  vendorId: 0x1b36,
  deviceId: 0x0008,
  classCode: 0x06_00_00,
};

/**
 * The host bridge at 00:00.0: a function with no BARs and no interrupt whose class says "host
 * bridge". Its identity is configurable; the default names a generic host so that OSes apply no
 * chipset quirk.
 */
export class PciHostBridge extends PciFunction {
  /** Creates the bridge with `identity` (default {@link HOST_BRIDGE_IDENTITY}). */
  constructor(identity: PciIdentity = HOST_BRIDGE_IDENTITY) {
    super(identity);
  }
}
