import { readFileSync } from "node:fs";

/**
 * The node flags a bin's shebang adds (`#!/usr/bin/env -S node --flag`): scripts that spawn the
 * CLI as `node <flags> main.js` run it as `npx xmcfuzz` does.
 */
export function shebangNodeFlags(bin: string): string[] {
  const first = readFileSync(bin, "utf8").split("\n", 1)[0]!;
  const m = /^#!.*\bnode((?:\s+--?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter((x) => x !== "") : [];
}
