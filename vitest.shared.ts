// Shared by every package's vitest.config.ts: inside the workspace a package resolves to its
// TypeScript sources through the "@turtles/source" export condition, so tests need no build.
import { defineProject } from "vitest/config";

/** Vitest project settings for the package in `dir` (pass `import.meta.dirname`). */
export function turtlesProject(name: string) {
  return defineProject({
    resolve: { conditions: ["@turtles/source"] },
    ssr: { resolve: { conditions: ["@turtles/source"] } },
    test: {
      name,
      include: ["src/**/*.test.ts", "test/**/*.test.ts", "*.test.ts", "workloads/**/*.test.ts"],
      environment: "node",
    },
  });
}
