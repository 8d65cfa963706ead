import { Effect, Exit, Result, Scope } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ManualClock } from "../../src/adapters/clock.js"
import { type IdsShape, sequentialIds } from "../../src/adapters/ids.js"
import type { TaskListing, TaskStore } from "../../src/cron/taskStore.js"
import type { TaskStoreError } from "../../src/cron/taskStoreError.js"

/** What an implementation under test provides: a fresh, empty store per test, and its cleanup. */
export interface TaskStoreFixture {
  readonly store: TaskStore
  /** Whether tasks read back carry `durable: true` (the file) or `durable: false` (a session). */
  readonly durable: boolean
  readonly cleanup?: () => void
}

export const T0 = Date.parse("2026-03-01T12:00:00Z")

export const run = <A>(effect: Effect.Effect<A, TaskStoreError>): Promise<A> => Effect.runPromise(effect)

/** The error an effect fails with (the test fails if it succeeds). */
export async function failure<A>(effect: Effect.Effect<A, TaskStoreError>): Promise<TaskStoreError> {
  const result = await Effect.runPromise(Effect.result(effect))
  if (Result.isSuccess(result)) throw new Error(`expected a failure, got ${JSON.stringify(result.success)}`)
  return result.failure
}

/** A running `store.watch`: every listing it reported, and a way to wait for one. */
export interface WatchRecorder {
  readonly seen: TaskListing[]
  /** Resolves with the first listing (already seen or still to come) that satisfies `predicate`. */
  readonly next: (predicate: (listing: TaskListing) => boolean) => Promise<TaskListing>
  readonly stop: () => Promise<void>
}

export async function recordWatch(store: TaskStore): Promise<WatchRecorder> {
  const seen: TaskListing[] = []
  const waiters: Array<{ predicate: (l: TaskListing) => boolean; resolve: (l: TaskListing) => void }> = []
  const scope = await Effect.runPromise(Scope.make())
  await Effect.runPromise(
    store
      .watch((listing) => {
        seen.push(listing)
        for (const w of [...waiters]) {
          if (w.predicate(listing)) {
            waiters.splice(waiters.indexOf(w), 1)
            w.resolve(listing)
          }
        }
      })
      .pipe(Scope.provide(scope)),
  )
  return {
    seen,
    next: (predicate) => {
      const found = seen.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void)),
  }
}

/** Ids that repeat: the first two draws collide with each other, so a store must draw again. */
export function collidingIds(): IdsShape {
  const base = sequentialIds()
  const queue = ["0000beef", "0000beef"]
  return { ...base, taskId: () => queue.shift() ?? base.taskId() }
}

/**
 * The task-store contract (STYLE habit 7): the durable file store and the session store both pass it.
 * `make` builds an empty store whose new tasks take `createdAt` from `clock` and ids from `ids`.
 */
export function taskStoreContract(
  name: string,
  make: (clock: ManualClock, ids: IdsShape) => TaskStoreFixture,
): void {
  describe(`TaskStore contract: ${name}`, () => {
    let clock: ManualClock
    let fixture: TaskStoreFixture
    let store: TaskStore
    const fresh = (ids: IdsShape = sequentialIds()) => {
      fixture?.cleanup?.()
      fixture = make(clock, ids)
      store = fixture.store
    }

    beforeEach(() => {
      clock = new ManualClock(T0)
      fresh()
    })
    afterEach(() => fixture.cleanup?.())

    it("starts empty", async () => {
      expect(await run(store.list())).toEqual({ tasks: [], invalid: [] })
    })

    it("adds tasks with an id from the ids port and createdAt from the clock, in order", async () => {
      const a = await run(store.add({ cron: "*/5 * * * *", prompt: "check the build", recurring: true }))
      clock.advance(1000)
      const b = await run(
        store.add({ cron: "0 9 * * 1-5", prompt: "standup", recurring: false, permanent: false }),
      )
      expect(a).toEqual({
        id: "00000001",
        cron: "*/5 * * * *",
        prompt: "check the build",
        createdAt: T0,
        recurring: true,
        durable: fixture.durable,
      })
      expect(b).toMatchObject({ id: "00000002", createdAt: T0 + 1000, recurring: false })
      expect(b.permanent).toBeUndefined()
      expect((await run(store.list())).tasks).toEqual([a, b])
    })

    it("keeps a chosen id and createdAt, and marks permanent tasks", async () => {
      const task = await run(
        store.add({
          cron: "@daily",
          prompt: "nightly",
          recurring: true,
          permanent: true,
          id: "abcdef01",
          createdAt: 42,
        }),
      )
      expect(task).toMatchObject({ id: "abcdef01", createdAt: 42, permanent: true })
      expect((await run(store.list())).tasks.map((t) => t.id)).toEqual(["abcdef01"])
    })

    it("draws another id when the ids port repeats one", async () => {
      fresh(collidingIds())
      const a = await run(store.add({ cron: "* * * * *", prompt: "a", recurring: true }))
      const b = await run(store.add({ cron: "* * * * *", prompt: "b", recurring: true }))
      expect(a.id).toBe("0000beef")
      expect(b.id).not.toBe("0000beef")
      expect(b.id).toMatch(/^[0-9a-f]{8}$/)
    })

    it("refuses an invalid cron with AGH_CRON_INVALID naming the expression, adding nothing", async () => {
      const error = await failure(store.add({ cron: "5/15 * * * *", prompt: "x", recurring: true }))
      expect(error.code).toBe("AGH_CRON_INVALID")
      expect(error.field).toBe("cron")
      expect(error.message).toContain('invalid cron expression "5/15 * * * *": minute field "5/15"')
      expect((await run(store.list())).tasks).toEqual([])
    })

    it("refuses a blank prompt, a malformed id and a taken id with AGH_TASK_INVALID", async () => {
      const blank = await failure(store.add({ cron: "* * * * *", prompt: " \n\t", recurring: true }))
      expect([blank.code, blank.field]).toEqual(["AGH_TASK_INVALID", "prompt"])
      expect(blank.message).toContain(store.location)
      const upper = await failure(
        store.add({ cron: "* * * * *", prompt: "x", recurring: true, id: "ABCDEF01" }),
      )
      expect([upper.code, upper.field]).toEqual(["AGH_TASK_INVALID", "id"])
      expect(upper.message).toContain('task id "ABCDEF01" is not 8 lowercase hex characters')
      await run(store.add({ cron: "* * * * *", prompt: "x", recurring: true, id: "abcdef01" }))
      const taken = await failure(
        store.add({ cron: "* * * * *", prompt: "y", recurring: true, id: "abcdef01" }),
      )
      expect(taken.code).toBe("AGH_TASK_INVALID")
      expect(taken.message).toContain('a task with id "abcdef01" already exists')
      expect((await run(store.list())).tasks).toHaveLength(1)
    })

    it("removes a task once: true, then false", async () => {
      const a = await run(store.add({ cron: "* * * * *", prompt: "a", recurring: false }))
      const b = await run(store.add({ cron: "* * * * *", prompt: "b", recurring: false }))
      expect(await run(store.remove(a.id))).toBe(true)
      expect(await run(store.remove(a.id))).toBe(false)
      expect(await run(store.remove("ffffffff"))).toBe(false)
      expect((await run(store.list())).tasks).toEqual([b])
    })

    it("markFired sets lastFiredAt, never moves it back, and reports a vanished task as undefined", async () => {
      const a = await run(store.add({ cron: "0 * * * *", prompt: "hourly", recurring: true }))
      const fired = await run(store.markFired(a.id, T0 + 3_600_000))
      expect(fired).toEqual({ ...a, lastFiredAt: T0 + 3_600_000 })
      expect(await run(store.markFired(a.id, T0 + 60_000))).toEqual(fired)
      expect((await run(store.list())).tasks).toEqual([fired])
      expect(await run(store.markFired("ffffffff", T0))).toBeUndefined()
      await run(store.remove(a.id))
      expect(await run(store.markFired(a.id, T0 + 7_200_000))).toBeUndefined()
      expect((await run(store.list())).tasks).toEqual([])
    })

    it("watch reports the current tasks, then each change, until its scope closes", async () => {
      const a = await run(store.add({ cron: "* * * * *", prompt: "a", recurring: true }))
      const watch = await recordWatch(store)
      try {
        await watch.next((l) => l.tasks.length === 1 && l.tasks[0]!.id === a.id)
        const b = await run(store.add({ cron: "* * * * *", prompt: "b", recurring: true }))
        await watch.next((l) => l.tasks.some((t) => t.id === b.id))
        await run(store.remove(a.id))
        const last = await watch.next((l) => l.tasks.length === 1 && l.tasks[0]!.id === b.id)
        expect(last.invalid).toEqual([])
        expect(last.error).toBeUndefined()
      } finally {
        await watch.stop()
      }
    })
  })
}
