import { parentPort, workerData } from "node:worker_threads";

// Imports a strategy plugin in a throwaway thread: a module whose top level never finishes (an
// endless loop, an await that never settles) is found here, where it can be cut off, before the
// real import in the calling thread.

import(workerData as string).then(
  () => parentPort!.postMessage({ ok: true }),
  (e: unknown) => parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) }),
);
