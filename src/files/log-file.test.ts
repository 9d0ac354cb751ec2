import { mkdtempSync, readFileSync } from "node:fs";
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
