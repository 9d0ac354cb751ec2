// A measurement, not a fuzz target of its own: the jsfuzz target plus a tally of the work its
// runs do (scheduler events and instructions emulated), written to $XMCFUZZ_TALLY_FILE every 250
// execs (write, then rename). From an empty corpus jsfuzz's buffers stay short and decode to the
// smallest cases; the tally shows how large its cases are, to compare execs/s on like cases. It
// costs a few additions per exec.
"use strict";

const { renameSync, writeFileSync } = require("node:fs");
const { runBytes, throwIfBug } = require("./jsfuzz-target.cjs");

const file = process.env.XMCFUZZ_TALLY_FILE;
const tally = { execs: 0, events: 0, instructions: 0 };

/** @param {Buffer} buf */
function fuzz(buf) {
  const run = runBytes(buf);
  tally.execs++;
  tally.events += run.outcome.run.events;
  for (const o of run.outcome.run.observations) tally.instructions += o.instructions;
  if (file && tally.execs % 250 === 0) {
    writeFileSync(`${file}.tmp`, JSON.stringify(tally));
    renameSync(`${file}.tmp`, file);
  }
  throwIfBug(run);
}

module.exports = { fuzz };
