// A pool of lanes over a job list, for the worker threads of one machine: each lane takes the
// next job as soon as it is free. Shards and exhaustive cell checks are served this way.

/** Runs one job at a time (a long-lived worker thread); closed after its last job. */
export interface Lane<J, R> {
  run(job: J): Promise<R>;
  close(): Promise<void>;
}

export interface LaneOptions<R> {
  /** Asked before each job is handed out: stop serving (running jobs finish). */
  readonly shouldStop?: () => boolean;
  /** Each result as it completes, with how many have. */
  readonly onResult?: (result: R, done: number) => void;
}

/** Results in job order; jobs never started because `shouldStop` said so are left out. */
export async function runOnLanes<J, R>(jobs: readonly J[], lanes: number, open: () => Lane<J, R>, opts: LaneOptions<R> = {}): Promise<R[]> {
  const out: R[] = new Array(jobs.length);
  let next = 0, done = 0;
  const serve = async (lane: Lane<J, R>) => {
    try {
      while (next < jobs.length && !opts.shouldStop?.()) {
        const i = next++;
        out[i] = await lane.run(jobs[i]!);
        opts.onResult?.(out[i]!, ++done);
      }
    } finally {
      await lane.close();
    }
  };
  const count = jobs.length === 0 ? 0 : Math.max(1, Math.min(lanes, jobs.length));
  await Promise.all(Array.from({ length: count }, () => serve(open())));
  return out.slice(0, next);
}
