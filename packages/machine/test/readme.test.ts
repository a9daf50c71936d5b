// Keeps the README's examples true: its ```ts blocks must be these files, in order, and they run here.
import { readFileSync } from "node:fs";
import { expect, it, vi } from "vitest";

const examples: { file: string; load: () => Promise<unknown>; prints: string[] }[] = [
  {
    file: "readme-example.ts",
    load: () => import("./readme-example.js"),
    prints: ["INTR true", "INTR false", "vector 24 byte 121", '"hello\\n" exit 33'],
  },
  {
    file: "readme-apic-example.ts",
    load: () => import("./readme-apic-example.js"),
    prints: ["INTR true at 10000 ns", "vector 34 then INTR false", "x2APIC ID read in xAPIC mode: #GP"],
  },
  {
    file: "readme-pci-example.ts",
    load: () => import("./readme-pci-example.js"),
    prints: [
      "00:01.0 is 51b36 00:02.0 is ffffffff",
      "BAR0 at c0000000 (4096 bytes)",
      "BAR1 at c000 (256 bytes)",
      "hits 1",
    ],
  },
  {
    file: "readme-acpi-example.ts",
    load: () => import("./readme-acpi-example.js"),
    prints: ["RSDP at f0000 XSDT lists FACP APIC HPET MCFG", "DSDT at f0080 tables end at f0354"],
  },
  {
    file: "readme-boot-example.ts",
    load: () => import("./readme-boot-example.js"),
    prints: [
      "0 9fc00 1",
      "9fc00 400 2",
      "e0000 20000 2",
      "100000 3f00000 1",
      "protected32 at 10000c eax 2badb002 ebx 9500 cs 16",
      "multiboot: no multiboot header in the first 8192 bytes",
    ],
  },
  {
    file: "readme-machine-example.ts",
    load: () => import("./readme-machine-example.js"),
    prints: ['"PIT: 10 ticks on IRQ0\\nPASS\\n"', "debug-exit 1 IRQ0 taken 10 machine ms 90.001895"],
  },
];

it("README shows the example files verbatim, in order", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]?.trim());
  expect(blocks).toEqual(
    examples.map((e) => readFileSync(new URL(`./${e.file}`, import.meta.url), "utf8").trim()),
  );
});

for (const example of examples) {
  it(`runs ${example.file}`, async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
    try {
      await example.load();
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(example.prints);
  });
}
