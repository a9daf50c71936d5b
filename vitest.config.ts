import { defineConfig } from "vitest/config";

// One run over every package, example and the bench harness: each folder with a
// vitest.config.ts is a project (see vitest.shared.ts).
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "examples/*/vitest.config.ts", "bench*/vitest.config.ts"],
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts"],
      exclude: ["**/*.test.ts", "**/generated/**"],
      reporter: ["text-summary", "html"],
    },
  },
});
