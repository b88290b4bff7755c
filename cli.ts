#!/usr/bin/env bun
/// <reference types="node" />
/**
 * The `otel-native-metrics` command line (package `bin`):
 * `deno run -A cli.ts <command>` or `bun cli.ts <command>`.
 * Commands: `status`, `listen`, `decode`, `forward`; `--help` on each.
 *
 * @module
 */
import process from "node:process";
import { main } from "./src/cli/main.ts";

process.exit(await main(process.argv.slice(2)));
