// jsfuzz target (SPEC 9, last bullet): jsfuzz's byte buffers -> cases -> one differential run.
//
// jsfuzz 1.0.15 only requires CommonJS targets and instruments the CommonJS modules they require
// for coverage, so this loads the CommonJS build of the library: run `npm run build:cjs` first
// (tsconfig.cjs.json -> dist-cjs/). Then, from the repository root (jsfuzz joins the target path
// to the current directory, so give it a relative path):
//
//   npx jsfuzz harness/jsfuzz-target.cjs /tmp/jsfuzz-corpus
//
// jsfuzz stops at the first exception (a "crash") and has no time or run limit. A divergence of
// a deliberately broken strategy is an expected finding, not a reason to stop, so by default
// this target throws only:
//   - when the verdict under `stop_machine` is a divergence or has a rule finding: it can do
//     neither by construction (SPEC 6.6: it serializes every core around its stores), so either
//     is always a harness bug;
//   - on any exception of the library itself (a rejected generated case, a DriftError, ...),
//     which propagate as they are: they are bugs too.
// Set XMCFUZZ_THROW=1 to also stop at the first divergence of any strategy (the error message is
// the run's signature). "harness-error" verdicts (e.g. a hang budget exceeded) are ignored.
// jsfuzz saves the buffer that threw as crash-<sha256>: `xmcfuzz from-bytes crash-<sha256> -o
// crash.json` records its run in a case file for repro and minimize.
"use strict";

const { caseFromBytes } = require("../dist-cjs/src/fuzz/bytes.js");
const { prepare, runOnce } = require("../dist-cjs/src/differential.js");

const throwOnAny = process.env.XMCFUZZ_THROW === "1";

/** The one differential run a buffer decodes to, with its schedule seed. @param {Buffer} buf */
function runBytes(buf) {
  const { kase, soloBudget, strategy, model, seed } = caseFromBytes(buf);
  return { seed, outcome: runOnce(prepare(kase, soloBudget), { strategy, model, seed }) };
}

/** Throws on a run that must stop jsfuzz (see above). */
function throwIfBug({ seed, outcome: { verdict } }) {
  const run = `${verdict.strategy}/${verdict.model}/seed ${seed}`;
  if (verdict.strategy === "stop_machine" && verdict.rules.length > 0) {
    throw new Error(`${run}: stop_machine broke ${verdict.rules[0].rule} (core ${verdict.rules[0].core})`);
  }
  if (verdict.kind !== "diverges") return; // "clean" or "harness-error"
  if (throwOnAny || verdict.strategy === "stop_machine") throw new Error(`${run}: ${verdict.signature ?? "diverges"}`);
}

/** @param {Buffer} buf */
function fuzz(buf) {
  throwIfBug(runBytes(buf));
}

module.exports = { fuzz, runBytes, throwIfBug };
