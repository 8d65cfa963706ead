import { ManualClock } from "../../src/adapters/clock.js"
import { type IdsShape, sequentialIds } from "../../src/adapters/ids.js"
import { memoryEventLogLayer } from "../../src/eventlog/memoryEventLog.js"
import type { LaunchOutcome, TriggerLauncher, TriggerRunRequest } from "../../src/triggers/triggerLauncher.js"
import {
  openTriggerStore,
  type TriggerStore,
  type TriggerStoreOptions,
} from "../../src/triggers/triggerStore.js"

export const T0 = Date.parse("2026-01-01T00:00:00Z")

/** Ids whose `taskId()` hands out `hex` first (to place triggers in their jitter window), then counts. */
export function idsFrom(hex: ReadonlyArray<string>): IdsShape {
  const queue = [...hex]
  const fallback = sequentialIds(0x1000)
  return { ...fallback, taskId: () => queue.shift() ?? fallback.taskId() }
}

/** A launcher that records each request and lets the test end each session. */
export class FakeLauncher {
  readonly calls: TriggerRunRequest[] = []
  /** When set, launching rejects with it. */
  failWith: Error | undefined
  private readonly endings = new Map<string, (outcome: LaunchOutcome) => void>()
  private counter = 0

  readonly launch: TriggerLauncher = async (request) => {
    this.calls.push(request)
    if (this.failWith !== undefined) throw this.failWith
    const sessionId = `s_${(++this.counter).toString(16).padStart(24, "0")}`
    const done = new Promise<LaunchOutcome>((resolve) => this.endings.set(sessionId, resolve))
    return { sessionId, done }
  }

  /** Ends a session as its runtime would. */
  end(sessionId: string, status = "completed", detail?: string): void {
    const resolve = this.endings.get(sessionId)
    if (resolve === undefined) throw new Error(`no session ${sessionId}`)
    resolve({ status, ...(detail === undefined ? {} : { detail }) })
  }
}

/** A store on the memory log with a manual clock and a fake launcher. */
export async function memoryStore(
  options: Partial<TriggerStoreOptions> & {
    readonly hex?: ReadonlyArray<string>
    readonly noLauncher?: boolean
  } = {},
): Promise<{ store: TriggerStore; clock: ManualClock; launcher: FakeLauncher }> {
  const clock = new ManualClock(T0)
  const launcher = new FakeLauncher()
  const { hex, noLauncher, ...rest } = options
  const store = await openTriggerStore({
    eventLog: memoryEventLogLayer,
    clock,
    ids: idsFrom(hex ?? []),
    ...(noLauncher === true ? {} : { launcher: launcher.launch }),
    ...rest,
  })
  return { store, clock, launcher }
}

/** A work_dir project (the store does not look at the disk; the server's policy does). */
export const project = { work_dir: "/srv/work/repo" }
