// tsc writes dist/ without the executable bit, and `npx xmcfuzz` (the README's first command) runs
// the package's bin as a program: unless npx's own install of the package set the bit, the shell
// answers "Permission denied". The build sets it.
import { chmodSync } from "node:fs";

chmodSync(new URL("../dist/src/cli/main.js", import.meta.url), 0o755);
