import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { NodeClaim } from "./node-claim.js";
import { ownerTag } from "./store.js";

// One live process per node of a sync directory, taken over only from the dead (or, from another
// host, the long silent), and by one process only when several race for it.

const root = join(import.meta.dirname, "..", "..");
const claimModule = join(root, "dist", "src", "files", "node-claim.js");
const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-claim-"));

/** A pid that exited (the owner a SIGKILLed campaign leaves). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }).stdout.trim());
}

function writeOwner(sync: string, node: string, owner: string, ageMs = 0): void {
  mkdirSync(join(sync, node), { recursive: true });
  writeFileSync(join(sync, node, "owner"), owner);
  const t = new Date(Date.now() - ageMs);
  utimesSync(join(sync, node, "owner"), t, t);
}

beforeAll(() => {
  if (!existsSync(claimModule)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

describe("NodeClaim", () => {
  it("is bad input while its owner lives, and is taken over from a dead owner of this host at once", () => {
    const sync = fresh();
    const mine = NodeClaim.take(sync, "n");
    expect(readFileSync(join(sync, "n", "owner"), "utf8")).toBe(ownerTag());
    mine.release();
    expect(existsSync(join(sync, "n", "owner"))).toBe(false);
    writeOwner(sync, "n", `${hostname()} ${deadPid()}`);
    NodeClaim.take(sync, "n").release();
    // A live process of this host holds it however long ago it refreshed (it may be stopped).
    writeOwner(sync, "n", `${hostname()} ${process.ppid}`, 10 * 60_000);
    expect(() => NodeClaim.take(sync, "n")).toThrow(/--node n: .* is in use by process .* give each process its own --node/);
    // Another host's: live while refreshed, taken over once silent for a minute.
    writeOwner(sync, "n", "elsewhere 4242", 1_000);
    expect(() => NodeClaim.take(sync, "n")).toThrow(/in use by process elsewhere 4242/);
    writeOwner(sync, "n", "elsewhere 4242", 61_000);
    NodeClaim.take(sync, "n").release();
  });

  it("of several processes taking over one dead owner, exactly one wins", async () => {
    for (let round = 0; round < 6; round++) {
      const sync = fresh();
      writeOwner(sync, "n", `${hostname()} ${deadPid()}`);
      const script = `import { NodeClaim } from ${JSON.stringify(claimModule)};
        try { NodeClaim.take(${JSON.stringify(sync)}, "n"); console.log("won"); setTimeout(() => {}, 1500); }
        catch { console.log("lost"); }`;
      const results = await Promise.all(Array.from({ length: 4 }, () => new Promise<string>((resolve) => {
        const p = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        p.stdout.on("data", (d) => (out += d));
        p.once("exit", () => resolve(out.trim()));
      })));
      expect(results.filter((r) => r === "won"), `round ${round}: ${results.join(" ")}`).toHaveLength(1);
    }
  }, 60_000);
});
