/** Work a scheduler started and has not seen finish: machine starts, fires, removals, appends. */
export interface InflightWork {
  /** Remembers `work` until it settles (a rejection counts as settled: its owner reports it). */
  readonly track: (work: Promise<unknown>) => void
  /** Resolves once nothing tracked is pending, including work tracked while waiting. */
  readonly drain: () => Promise<void>
}

/** An {@link InflightWork}: what a scheduler's `settle` waits for. */
export function makeInflightWork(): InflightWork {
  const pending = new Set<Promise<unknown>>()
  return {
    track: (work) => {
      const settled = work.then(
        () => undefined,
        () => undefined,
      )
      pending.add(settled)
      void settled.then(() => pending.delete(settled))
    },
    drain: async () => {
      while (pending.size > 0) await Promise.all([...pending])
    },
  }
}
