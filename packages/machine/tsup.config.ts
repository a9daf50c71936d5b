import { defineConfig } from "tsup";

export default defineConfig({
  // The library, and the `turtles` command (src/cli/main.ts starts with its shebang, which esbuild keeps).
  entry: { index: "src/index.ts", turtles: "src/cli/main.ts" },
  format: ["esm", "cjs"],
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  clean: true,
  target: "es2022",
  tsconfig: "tsconfig.build.json",
});
