// The README's example, verbatim between the markers (test/readme.test.ts checks both).
// README-BEGIN
import { add, Cond, CpuState, condition, div, Gpr, Rflags, restore, snapshot, VECTOR_DE } from "@turtles/cpu";

const cpu = new CpuState();
cpu.set64(Gpr.RAX, 0xffff_ffff, 0x7fff_ffff); // RAX = 0x7fffffff_ffffffff

// ADD RAX, 1: operands are lo/hi halves; the result goes to cpu.out, the flags stay lazy.
add(cpu, 64, cpu.lo(Gpr.RAX), cpu.hi(Gpr.RAX), 1, 0);
cpu.set64(Gpr.RAX, cpu.out[0]!, cpu.out[1]!); // RAX = 0x80000000_00000000

const rflags = cpu.flags.read(); // computed only now: OF, SF, AF, PF set (0x896)
const overflowed = (rflags & Rflags.OF) !== 0; // true
const jo = condition(cpu.flags, Cond.O); // true: JO would be taken
const jl = condition(cpu.flags, Cond.L); // false: SF == OF

// DIV by zero does not throw: it returns the #DE vector for the caller to deliver.
const fault = div(cpu, 32, 10, 0, 0, 0, 0, 0); // VECTOR_DE (0)

// Snapshots are plain JSON-safe objects.
const copy = restore(JSON.parse(JSON.stringify(snapshot(cpu))));
const raxHigh = copy.hi(Gpr.RAX); // 0x80000000

// README-END

export { fault, jl, jo, overflowed, raxHigh, rflags, VECTOR_DE };
