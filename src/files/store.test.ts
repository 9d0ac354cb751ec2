import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import { signatureSlug } from "../oracle/classify.js";
import { InputError } from "../errors.js";
import { findingFile, offerFinding, readCorpusFile, reproducerSize, SyncDirStore } from "./store.js";

// The crash store as several processes use it: real processes on one directory, no mocks.

const root = join(import.meta.dirname, "..", "..");
const built = join(root, "dist", "src", "files", "store.js");
const sample = join(root, "corpus", "jump-label-nop5-jmp32.json");
const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-store-"));

/**
 * A process offering `signatures` findings, the k-th offer of each with `k` decisions, in an
 * order of its own; prints its offers as JSON. Started together, they race on every signature.
 */
const OFFERER = `
import { findingFile, offerFinding } from ${JSON.stringify(built)};
import { loadCaseFile } from ${JSON.stringify(join(root, "dist", "src", "case", "load.js"))};
const [crashes, signatures, seed] = process.argv.slice(1);
const { kase } = loadCaseFile(${JSON.stringify(sample)});
const offers = [];
for (let s = 0; s < Number(signatures); s++) {
  const k = 1 + ((s * 7 + Number(seed) * 3) % 5);
  const run = { ...kase.runs[0], decisions: Array.from({ length: k }, () => [0, 2]) };
  const signature = "direct_write sdm-strict torn-fetch test" + s;
  offers.push([signature, k, offerFinding(crashes, findingFile(signature, "divergence", { ...kase, runs: [run] }, "report " + k + "\\n"))]);
}
console.log(JSON.stringify(offers));
`;

function offerer(crashes: string, signatures: number, seed: number): Promise<[string, number, string][]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--input-type=module", "-e", OFFERER, crashes, String(signatures), String(seed)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as [string, number, string][]) : reject(new Error(`offerer exited ${code}`))));
  });
}

beforeAll(() => {
  if (!existsSync(built)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

describe("the sync directory's crash store", () => {
  it("6 processes racing on 150 signatures: each is new exactly once and ends with its smallest reproducer alone", async () => {
    const crashes = join(fresh(), "crashes");
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((seed) => offerer(crashes, 150, seed)));
    const smallest = new Map<string, number>();
    const news = new Map<string, number>();
    for (const [signature, k, offer] of results.flat()) {
      smallest.set(signature, Math.min(k, smallest.get(signature) ?? Infinity));
      if (offer === "new") news.set(signature, (news.get(signature) ?? 0) + 1);
    }
    expect(smallest.size).toBe(150);
    for (const [signature, k] of smallest) {
      expect(news.get(signature), signature).toBe(1);
      const files = readdirSync(join(crashes, signatureSlug(signature))).sort();
      expect(files).toHaveLength(2);
      const { kase } = loadCaseFile(join(crashes, signatureSlug(signature), files[0]!));
      expect(kase.runs[0]!.decisions).toHaveLength(k);
      expect(files[1]).toBe(files[0]!.replace(/\.json$/, ".txt"));
    }
    expect(readdirSync(crashes).filter((d) => d.startsWith("."))).toEqual([]);
  }, 60_000);

  it("a directory a killed process left half-built is never read as a finding, and is removed once it is old", () => {
    const dir = fresh(), crashes = join(dir, "crashes");
    const { kase } = loadCaseFile(sample);
    expect(offerFinding(crashes, findingFile("direct_write sdm-strict torn-fetch kept", "divergence", kase, "r\n"))).toBe("new");
    const orphan = (name: string, ageS: number) => {
      mkdirSync(join(crashes, name));
      writeFileSync(join(crashes, name, `s${reproducerSize(kase)}-0123456789abcdef.json`), `{"description": "divergence ${name}"`);
      const t = Date.now() / 1000 - ageS;
      utimesSync(join(crashes, name), t, t);
    };
    orphan(".tmp-1-old", 3600);
    orphan(".tmp-1-young", 0);
    const store = new SyncDirStore(join(dir, "sync"), "n1", crashes);
    expect([...store.signatures()]).toEqual(["direct_write sdm-strict torn-fetch kept"]);
    expect(readdirSync(crashes).sort()).toEqual([".tmp-1-young", signatureSlug("direct_write sdm-strict torn-fetch kept")]);
  });

  it("a damaged reproducer (cut off, edited) does not make a new find 'known': the find replaces it", () => {
    const dir = fresh(), crashes = join(dir, "crashes");
    const { kase } = loadCaseFile(sample);
    const signature = "direct_write sdm-strict torn-fetch damaged";
    expect(offerFinding(crashes, findingFile(signature, "divergence", kase, "r\n"))).toBe("new");
    const sigDir = join(crashes, signatureSlug(signature));
    const [file] = readdirSync(sigDir).filter((n) => n.endsWith(".json"));
    writeFileSync(join(sigDir, file!), "{\"description\": \"diverg");
    expect(offerFinding(crashes, findingFile(signature, "divergence", kase, "r\n"))).toBe("new");
    const store = new SyncDirStore(join(dir, "sync"), "n1", crashes);
    expect([...store.signatures()]).toEqual([signature]);
    // The same find again is known now that a readable reproducer is there.
    expect(offerFinding(crashes, findingFile(signature, "divergence", kase, "r\n"))).toBe("known");
    // Edited into no case (its name kept): replaced as well.
    writeFileSync(join(sigDir, file!), JSON.stringify({ ...(JSON.parse(readFileSync(join(sigDir, file!), "utf8")) as object), cores: "two" }));
    expect(offerFinding(crashes, findingFile(signature, "divergence", kase, "r\n"))).toBe("new");
  });

  it("a corpus entry whose bits are not bits of the bitmap is skipped like any damaged file", () => {
    const dir = fresh();
    const entry = (bits: unknown) => JSON.stringify({ case: {}, bits });
    writeFileSync(join(dir, "ok.json"), entry([1, 2]));
    writeFileSync(join(dir, "far.json"), entry([1, 1 << 20]));
    writeFileSync(join(dir, "none.json"), JSON.stringify({ case: {} }));
    expect(readCorpusFile(join(dir, "ok.json"))?.bits).toEqual([1, 2]);
    expect(readCorpusFile(join(dir, "far.json"))).toBeUndefined();
    expect(readCorpusFile(join(dir, "none.json"))).toBeUndefined();
  });

  it("a node name is one path segment of safe characters: anything else is bad input, written nowhere", () => {
    const dir = fresh();
    for (const bad of ["..", ".", "a/b", "/abs", "", ".hidden", "-x", "a\\b", "x\ny", "n".repeat(129)]) {
      expect(() => new SyncDirStore(join(dir, "sync"), bad, join(dir, "crashes")), JSON.stringify(bad)).toThrow(InputError);
    }
    expect(readdirSync(dir)).toEqual([]);
    for (const good of ["n1", "matrix-123", "host.example.org-42", "A_b"]) new SyncDirStore(join(dir, "sync"), good, join(dir, "crashes"));
  });
});
