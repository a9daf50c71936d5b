/**
 * Index (0..511) of the entry that a 64-bit-entry paging structure of `level` (1 = page table,
 * 5 = PML5) selects for the address whose bits 63:32 are `hi` and bits 31:0 are `lo`: bits
 * 20:12, 29:21, 38:30, 47:39 and 56:48 (SDM 4.5, 29.3.2).
 */
export function tableIndex(hi: number, lo: number, level: number): number {
  switch (level) {
    case 1:
      return (lo >>> 12) & 0x1ff;
    case 2:
      return (lo >>> 21) & 0x1ff;
    case 3:
      return ((lo >>> 30) | (hi << 2)) & 0x1ff;
    case 4:
      return (hi >>> 7) & 0x1ff;
    default:
      return (hi >>> 16) & 0x1ff;
  }
}
