// The scheduler's events (SPEC 8), one number each, so that listing the enabled ones on every
// step allocates nothing: kind << 20 | core << 16 | index (of the snoop, invalidation or
// write-back delivered).

export const enum Ev {
  Patcher = 0,
  Exec = 1,
  Refill = 2,
  Ipi = 3,
  Handler = 4,
  Snoop = 5,
  Inval = 6,
  Clean = 7,
}

export const encode = (kind: Ev, core: number, idx: number): number => (kind << 20) | (core << 16) | idx;

export const kindOf = (ev: number): Ev => ev >>> 20;

/** The core an event belongs to (0: the patcher, and every write-back). */
export const coreOf = (ev: number): number => (ev >>> 16) & 0xf;

export const indexOf = (ev: number): number => ev & 0xffff;

/** 0 the patcher, c a program core, nCores the memory system (pending write-backs). */
export const actorOf = (ev: number, nCores: number): number => (kindOf(ev) === Ev.Clean ? nCores : coreOf(ev));
