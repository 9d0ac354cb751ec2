// After `tsc -p tsconfig.cjs.json`: mark dist-cjs/ as CommonJS (the root package.json says
// "type": "module"), so jsfuzz can require() the build.
import { mkdirSync, writeFileSync } from "node:fs";

mkdirSync("dist-cjs", { recursive: true });
writeFileSync("dist-cjs/package.json", '{"type":"commonjs"}\n');
