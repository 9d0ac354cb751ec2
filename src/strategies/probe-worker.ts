import { parentPort, workerData } from "node:worker_threads";

// Imports a strategy plugin in a throwaway thread: a module whose top level never finishes (an
// endless loop, an await that never settles) is found here, where it can be cut off, before the
// real import in the calling thread. A promise its top level leaves rejected with nobody to catch
// it is a failed load too: the answer waits one turn of the event loop, by which Node has said so
// (answering at once raced that report, and the same plugin was bad input or a harness error).

let leftRejected: { readonly reason: unknown } | undefined;
process.on("unhandledRejection", (reason) => {
  leftRejected ??= { reason };
});

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

import(workerData as string).then(
  () => setImmediate(() => parentPort!.postMessage(leftRejected
    ? { ok: false, message: `its top level left a promise rejected that nobody handles: ${messageOf(leftRejected.reason)}` }
    : { ok: true })),
  (e: unknown) => parentPort!.postMessage({ ok: false, message: messageOf(e) }),
);
