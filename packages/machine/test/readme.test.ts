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
    file: "readme-platform-example.ts",
    load: () => import("./readme-platform-example.js"),
    prints: [
      "RSDP at e0000 tables FACS DSDT FACP APIC HPET MCFG",
      "0xFEBF0000 is pci-bar0",
      "timer vector 40",
      "protected32 at 10000c eax 2badb002 ebx 9500",
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
