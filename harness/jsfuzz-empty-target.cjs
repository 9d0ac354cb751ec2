// A control for benchmarks, not a fuzz target: the modules of jsfuzz-target.cjs, loaded (and so
// instrumented by jsfuzz) the same way, with a fuzz() that runs nothing. jsfuzz's execs/s on it
// is its own ceiling on this machine: what it spends per exec outside the harness (the IPC round
// trip, mutation, and a scan of every coverage counter of the instrumented modules).
"use strict";

require("../dist-cjs/src/fuzz/bytes.js");
require("../dist-cjs/src/differential.js");

module.exports = { fuzz: () => {} };
