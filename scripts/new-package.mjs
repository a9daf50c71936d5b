#!/usr/bin/env node
// Scaffolds packages/<name> with the workspace's conventions (package.json exports, tsconfig,
// tsup, vitest, typedoc). Usage: node scripts/new-package.mjs <name> "<description>" [dep ...]
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [name, description, ...deps] = process.argv.slice(2);
if (!name || !description) {
  console.error('usage: node scripts/new-package.mjs <name> "<description>" [@turtles/dep ...]');
  process.exit(2);
}
const dir = join("packages", name);
if (existsSync(dir)) {
  console.error(`new-package: ${dir} already exists`);
  process.exit(1);
}
mkdirSync(join(dir, "src"), { recursive: true });
const pkg = {
  name: `@turtles/${name}`,
  version: "0.0.0",
  description,
  license: "MIT",
  type: "module",
  sideEffects: false,
  exports: {
    ".": {
      "@turtles/source": "./src/index.ts",
      import: { types: "./dist/index.d.ts", default: "./dist/index.js" },
      require: { types: "./dist/index.d.cts", default: "./dist/index.cjs" },
    },
    "./package.json": "./package.json",
  },
  main: "./dist/index.cjs",
  module: "./dist/index.js",
  types: "./dist/index.d.cts",
  files: ["dist", "src", "!src/**/*.test.ts"],
  engines: { node: ">=20" },
  scripts: {
    build: "tsup",
    typecheck: "tsc -p tsconfig.json --noEmit",
    lint: "biome check .",
    test: "vitest run",
  },
  dependencies: Object.fromEntries(deps.map((d) => [d, "0.0.0"])),
};
const write = (file, text) => writeFileSync(join(dir, file), text);
write("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
write("tsconfig.json", `{\n  "extends": "../../tsconfig.base.json",\n  "include": ["src", "test"]\n}\n`);
write(
  "tsconfig.build.json",
  `{\n  "extends": "../../tsconfig.base.json",\n  "compilerOptions": { "customConditions": [] },\n  "include": ["src"],\n  "exclude": ["src/**/*.test.ts"]\n}\n`,
);
write(
  "tsup.config.ts",
  `import { defineConfig } from "tsup";\n\nexport default defineConfig({\n  entry: ["src/index.ts"],\n  format: ["esm", "cjs"],\n  dts: true,\n  sourcemap: true,\n  clean: true,\n  target: "es2022",\n  tsconfig: "tsconfig.build.json",\n});\n`,
);
write(
  "vitest.config.ts",
  `import { turtlesProject } from "../../vitest.shared";\n\nexport default turtlesProject("${name}");\n`,
);
write(
  "typedoc.json",
  `{\n  "$schema": "https://typedoc.org/schema.json",\n  "entryPoints": ["src/index.ts"],\n  "tsconfig": "tsconfig.build.json"\n}\n`,
);
console.log(`created ${dir}; run npm install to link it into the workspace`);
