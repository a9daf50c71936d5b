/**
 * Prints the opcode-map sweep's disagreements with iced-x86, grouped.
 * Usage: node --import tsx packages/x86-decoder/scripts/sweep-report.ts [bitness]
 */
import { sweep } from "../test/sweep.js";

const modes =
  process.argv[2] !== undefined ? [Number(process.argv[2]) as 16 | 32 | 64] : ([16, 32, 64] as const);
const evex = process.env.XOP === "1" ? ("xop" as const) : process.env.EVEX === "1";
for (const bits of evex ? ([64] as const) : modes) {
  const r = sweep(bits, evex);
  console.log(
    `${evex ? "EVEX " : ""}${bits}-bit: ${r.agreed}/${r.total} (${((100 * r.agreed) / r.total).toFixed(3)}%)`,
  );
  const groups = new Map<string, { n: number; ex: string }>();
  for (const m of r.mismatches) {
    const key = `${m.kind} ${m.iced.split(/[ ,]/)[m.kind === "length" ? 1 : 0]}`;
    const g = groups.get(key) ?? { n: 0, ex: `${m.hex} iced="${m.iced}" ours="${m.ours}"` };
    g.n++;
    groups.set(key, g);
  }
  for (const [k, g] of [...groups.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, Number(process.env.SHOW ?? 40))) {
    console.log(`${String(g.n).padStart(6)} ${k.padEnd(28)} ${g.ex}`);
  }
}
