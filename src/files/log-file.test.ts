import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogFile } from "./log-file.js";

// The campaign's log: whether a line was written whole decides where a finding the disk refused
// is said to be (the log, or stderr).

describe("LogFile", () => {
  it("appends whole lines and stays working", () => {
    const path = join(mkdtempSync(join(tmpdir(), "xmcfuzz-log-")), "fuzz.log");
    const log = new LogFile(path, () => expect.fail("no failure expected"));
    log.write("{\"a\":1}\n");
    log.write("{\"b\":2}\n");
    expect(log.working).toBe(true);
    expect(readFileSync(path, "utf8")).toBe("{\"a\":1}\n{\"b\":2}\n");
  });

  it("ends a line an earlier session left unfinished before its own first line", () => {
    const path = join(mkdtempSync(join(tmpdir(), "xmcfuzz-log-")), "fuzz.log");
    writeFileSync(path, "{\"a\":1}\n{\"cut");
    new LogFile(path, () => expect.fail("no failure expected")).write("{\"b\":2}\n");
    expect(readFileSync(path, "utf8")).toBe("{\"a\":1}\n{\"cut\n{\"b\":2}\n");
    new LogFile(path, () => expect.fail("no failure expected")).write("{\"c\":3}\n");
    expect(readFileSync(path, "utf8").endsWith("{\"b\":2}\n{\"c\":3}\n")).toBe(true);
  });

  it("on a full device: reports the failure once, is no longer working, and drops later lines", () => {
    const failures: unknown[] = [];
    const log = new LogFile("/dev/full", (e) => failures.push(e));
    expect(log.working).toBe(true);
    log.write("{\"a\":1}\n");
    log.write("{\"b\":2}\n");
    expect(log.working).toBe(false);
    expect(failures).toHaveLength(1);
    expect((failures[0] as NodeJS.ErrnoException).code).toBe("ENOSPC");
  });
});
