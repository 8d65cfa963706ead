import { Effect, Layer } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Clock, ManualClock } from "../../src/adapters/clock.js"
import { memoryEventLogLayer } from "../../src/eventlog/memoryEventLog.js"
import { scopedTriggerStore, type TriggerStore } from "../../src/triggers/triggerStore.js"
import type { Trigger, TriggerChanges } from "../../src/triggers/triggerTypes.js"
import { FakeLauncher, idsFrom, project, T0 } from "./triggerHarness.js"

type Op =
  | { readonly kind: "create"; readonly enabled: boolean; readonly scheduled: boolean }
  | { readonly kind: "update"; readonly pick: number; readonly changes: TriggerChanges }
  | { readonly kind: "delete"; readonly pick: number }
  | { readonly kind: "fire"; readonly pick: number; readonly schedule: boolean; readonly force: boolean }
  | { readonly kind: "end"; readonly pick: number; readonly status: string }
  | { readonly kind: "fail"; readonly on: boolean }
  | { readonly kind: "tick"; readonly ms: number }

const changesArb: fc.Arbitrary<TriggerChanges> = fc.record(
  {
    name: fc.constantFrom("a", "b", "renamed"),
    prompt: fc.constantFrom("p", "q"),
    agent: fc.constantFrom("builtin", "claude"),
    schedule: fc.constantFrom(null, { cron: "*/5 * * * *", tz: "UTC" }, { cron: "0 9 * * mon-fri" }),
    enabled: fc.boolean(),
    project: fc.constantFrom(project, { repository: { url: "https://example.com/r.git", ref: "main" } }),
  },
  { requiredKeys: [] },
)

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), enabled: fc.boolean(), scheduled: fc.boolean() }),
  fc.record({ kind: fc.constant("update" as const), pick: fc.nat(), changes: changesArb }),
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant("fire" as const),
    pick: fc.nat(),
    schedule: fc.boolean(),
    force: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("end" as const),
    pick: fc.nat(),
    status: fc.constantFrom("completed", "failed", "killed", "idle"),
  }),
  fc.record({ kind: fc.constant("fail" as const), on: fc.boolean() }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 600_000 }) }),
)

async function apply(
  store: TriggerStore,
  launcher: FakeLauncher,
  clock: ManualClock,
  ops: ReadonlyArray<Op>,
) {
  const sessions: string[] = []
  const pick = (n: number) => {
    const all = store.list()
    return all.length === 0 ? "trg_missing" : (all[n % all.length] as Trigger).id
  }
  for (const op of ops) {
    // Refusals (not found, paused, failed starts) are part of the behaviour under test: recorded or not.
    const ignore = () => undefined
    switch (op.kind) {
      case "create":
        await store.create({
          name: "t",
          prompt: "p",
          project,
          agent: "builtin",
          enabled: op.enabled,
          schedule: op.scheduled ? { cron: "*/5 * * * *", tz: "UTC" } : null,
        })
        break
      case "update":
        await store.update(pick(op.pick), op.changes).catch(ignore)
        break
      case "delete":
        await store.delete(pick(op.pick)).catch(ignore)
        break
      case "fire": {
        const run = await store
          .fireTrigger(pick(op.pick), clock.now(), op.schedule ? "schedule" : "manual", { force: op.force })
          .catch(ignore)
        if (run?.session_id != null) sessions.push(run.session_id)
        break
      }
      case "end": {
        const session = sessions.splice(op.pick % Math.max(1, sessions.length), 1)[0]
        if (session !== undefined) launcher.end(session, op.status)
        await store.settled()
        break
      }
      case "fail":
        launcher.failWith = op.on
          ? Object.assign(new Error("refused"), { code: "AGH_MAX_SESSIONS" })
          : undefined
        break
      case "tick":
        clock.advance(op.ms)
        break
    }
  }
  await store.settled()
}

describe("trigger store (property)", () => {
  it("reopening folds the log back to exactly the live state, whatever the operations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        async (ops, limit) => {
          const clock = new ManualClock(T0)
          const launcher = new FakeLauncher()
          const options = { clock, ids: idsFrom([]), launcher: launcher.launch, historyLimit: limit }
          const program = Effect.gen(function* () {
            const live = yield* Effect.scoped(
              Effect.gen(function* () {
                const store = yield* scopedTriggerStore(options)
                yield* Effect.promise(() => apply(store, launcher, clock, ops))
                return store.list()
              }),
            )
            const reopened = yield* Effect.scoped(
              Effect.map(scopedTriggerStore({ ...options, settleRunning: false }), (store) => store.list()),
            )
            return { live, reopened }
          })
          const { live, reopened } = await Effect.runPromise(
            program.pipe(Effect.provide(memoryEventLogLayer), Effect.provide(Layer.succeed(Clock, clock))),
          )
          expect(reopened).toEqual(live)
          for (const t of live) {
            expect(t.history.length).toBeLessThanOrEqual(limit)
            expect(t.run_count).toBeGreaterThanOrEqual(t.history.length)
            expect(t.schedule_from).toBeGreaterThanOrEqual(t.created_at)
            expect(new Set(t.history.map((r) => r.run_id)).size).toBe(t.history.length)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
