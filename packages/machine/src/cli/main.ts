#!/usr/bin/env node
// The `turtles` command (the package's bin). See run-cli.ts; from the workspace without a build:
//   node --conditions=@turtles/source --import tsx packages/machine/src/cli/main.ts -kernel x.elf
import { runCli } from "./run-cli.js";

process.exitCode = runCli(process.argv.slice(2));
