#!/bin/sh
# Runs jsfuzz on harness/jsfuzz-target.cjs for a fixed wall time and prints its execs/s, to
# compare with the built-in engine. Usage: scripts/bench-jsfuzz.sh [seconds=20] [corpus-dir]
# (default corpus: a fresh temporary directory, i.e. a cold start). Needs `npm run build:cjs`
# (done here when dist-cjs/ is missing; `npm run bench:jsfuzz` always rebuilds).
#
# jsfuzz has no time or run limit, so it is stopped with timeout(1). It prints a line at every
# new coverage ("NEW") and every 3 s ("PULSE"): "#<total execs> ... exec/s: <rate since the
# previous line>". Lines are timestamped as they arrive; reported:
#   steady execs/s = execs between the first and last line with execs > 0 / time between them
#                    (excludes jsfuzz's start-up: forking the worker, instrumenting modules);
#   wall execs/s   = total execs / whole wall time;
#   mean PULSE exec/s = mean of jsfuzz's own PULSE rates (those after the first exec);
#   last-third execs/s = execs over the last third of the time between the first and last line
#                    (past start-up and the first burst of new coverage, as a campaign runs most
#                    of a night: compare with xmcfuzz's own last third);
#   second-half execs/s = execs from the first line at or past half the budget (from this script's
#                    start) to the last line: the window bench:fuzz reads xmcfuzz's 20 s rounds over.
# jsfuzz runs in a temporary directory so its crash-* and .nyc_output files land there.
# Its per-input timeout is the whole budget: on a loaded machine the first input (loading and
# instrumenting the modules) can take longer than jsfuzz's default 30 s, which it reports as a crash.
set -eu

secs="${1:-20}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/xmcfuzz-jsfuzz.XXXXXX")"
corpus="${2:-$work/corpus}"
mkdir -p "$corpus"

[ -f "$root/dist-cjs/src/fuzz/bytes.js" ] || (cd "$root" && npm run --silent build:cjs)

# jsfuzz resolves the target as path.join(cwd, target): it must be relative to the cwd.
# JSFUZZ_TARGET: another target under harness/ (e.g. jsfuzz-empty-target.cjs, jsfuzz's own ceiling).
target="$(realpath --relative-to="$work" "$root/harness/${JSFUZZ_TARGET:-jsfuzz-target.cjs}")"

echo "jsfuzz $(node -p "require('$root/node_modules/jsfuzz/package.json').version") for ${secs}s, corpus $corpus, work dir $work"
cd "$work"
{ timeout --signal=TERM "$secs" "$root/node_modules/.bin/jsfuzz" "$target" "$corpus" \
    --exact-artifact-path "$work/crash" --timeout "$secs" 2>&1 || true; } | node -e '
const start = Date.now();
const secs = Number(process.argv[1]);
let buf = "", first = null, last = null, pulses = [], lastLine = "";
const points = [];
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const now = Date.now();
    const m = /^#(\d+) (\w+)\s.*exec\/s: (\d+)/.exec(line);
    if (m) {
      const n = Number(m[1]);
      lastLine = line;
      if (m[2] === "PULSE") console.log(line);
      if (n > 0) {
        if (!first) first = { n, t: now };
        last = { n, t: now };
        points.push(last);
        if (m[2] === "PULSE") pulses.push(Number(m[3]));
      }
    } else if (line.trim() !== "") console.log(line);
  }
});
process.stdin.on("end", () => {
  const wall = (Date.now() - start) / 1000;
  if (!last) { console.log("jsfuzz reported no executions"); process.exitCode = 1; return; }
  const steady = last.t > first.t ? (last.n - first.n) / ((last.t - first.t) / 1000) : NaN;
  const mean = pulses.length ? pulses.reduce((a, b) => a + b, 0) / pulses.length : NaN;
  console.log(`last: ${lastLine}`);
  console.log(`jsfuzz total execs: ${last.n} in ${wall.toFixed(1)} s (budget ${secs} s)`);
  console.log(`steady execs/s: ${steady.toFixed(1)}`);
  console.log(`wall execs/s: ${(last.n / wall).toFixed(1)}`);
  console.log(`mean PULSE exec/s: ${mean.toFixed(1)} (${pulses.length} pulses)`);
  const from = points.find((p) => p.t >= first.t + (last.t - first.t) * 2 / 3);
  const third = from && last.t > from.t ? (last.n - from.n) / ((last.t - from.t) / 1000) : NaN;
  console.log(`last-third execs/s: ${third.toFixed(1)}`);
  const half = points.find((p) => p.t >= start + secs * 1000 / 2);
  const second = half && last.t > half.t ? (last.n - half.n) / ((last.t - half.t) / 1000) : NaN;
  console.log(`second-half execs/s: ${second.toFixed(1)}`);
});
' "$secs"
