import { spawn, spawnSync } from "node:child_process";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic, writeOutputFile } from "./atomic.js";

// Output paths as users give them: files, links to files, and things that are no file at all
// (`-o /dev/stdout`, a FIFO a viewer reads), which a rename would have replaced by a plain file;
// and the files the tool names itself, where a planted link is replaced, never followed.

const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-atomic-"));

/** Writes `text` to a FIFO at `path` while a `cat` reads it; resolves with what cat read. */
async function throughFifo(path: string, write: () => void): Promise<string> {
  const cat = spawn("cat", [path], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  cat.stdout.on("data", (d) => (out += d));
  const done = new Promise((r) => cat.once("exit", r));
  write(); // opening a FIFO for writing blocks until cat has it open
  await done;
  return out;
}

describe("writeOutputFile (a path the user named)", () => {
  it("replaces a regular file whole, and keeps a symlink, writing the file it leads to", () => {
    const dir = fresh();
    const file = join(dir, "report.txt"), link = join(dir, "latest.txt");
    writeFileSync(file, "old");
    symlinkSync(file, link);
    writeOutputFile(link, "new");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(file);
    expect(readFileSync(file, "utf8")).toBe("new");
  });

  it("writes through a FIFO (or a link to one) instead of replacing it by a file", async () => {
    const dir = fresh();
    const fifo = join(dir, "pipe"), link = join(dir, "to-pipe");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    symlinkSync(fifo, link);
    expect(await throughFifo(fifo, () => writeOutputFile(fifo, "litmus\n"))).toBe("litmus\n");
    expect(await throughFifo(fifo, () => writeOutputFile(link, Uint8Array.of(0x41, 0x0a)))).toBe("A\n");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

describe("writeFileAtomic (a file the tool names: stats.json, findings, corpus entries)", () => {
  it("replaces a symlink planted at its path instead of writing where it leads", () => {
    const dir = fresh();
    const victim = join(dir, "secret.txt"), stats = join(dir, "stats.json");
    writeFileSync(victim, "keep me");
    symlinkSync(victim, stats);
    writeFileAtomic(stats, "{}");
    expect(lstatSync(stats).isFile()).toBe(true);
    expect(readFileSync(stats, "utf8")).toBe("{}");
    expect(readFileSync(victim, "utf8")).toBe("keep me");
  });
});
