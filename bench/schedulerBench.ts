import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { CronExpressionParser } from "cron-parser"
import { createActor } from "xstate"
import { liveClock } from "../src/adapters/clock.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../src/cron/jitterConfig.js"
import { taskFilePath } from "../src/cron/taskFile.js"
import { fileEventLogLayer } from "../src/eventlog/fileEventLog.js"
import { cronTaskMachine } from "../src/machines/cronTaskMachine.js"
import { CRON_TASK_EVENT } from "../src/machines/cronTaskTypes.js"
import { makeHeapClock } from "../src/scheduler/heapClock.js"
import { planNextFire } from "../src/scheduler/planNextFire.js"
import { startProjectScheduler } from "../src/scheduler/projectScheduler.js"
import { type Bench, type BenchRow, opsPerSecond } from "./harness.js"

/**
 * The scheduler with 100k durable tasks in one project (`SCHED_BENCH_TASKS` to change), on the real clock,
 * real files and the file event log:
 * - load: from the tasks file to every task's machine armed (file parse, one next-fire computation and
 *   one cronTaskMachine per task, their `actor.started` and `cronTask.scheduled` records appended), with
 *   the heap it takes; beside a raw baseline per task: cron-parser parse + next() and a bare xstate
 *   actor of the same machine, no log, no jitter;
 * - next fire per task as the scheduler computes it (`planNextFire`: two cron runs for the jitter) beside
 *   raw cron-parser parse + next() of the same expressions, in the same run;
 * - idle: CPU of this process over a few seconds of wall time with every task armed and none due, and
 *   how many real timers that takes (one); beside the same process idling with an equal heap of plain
 *   objects and one 1 s interval timer (what any big Node process costs: V8's background work);
 * - how long the event loop was blocked at worst while the tasks armed (they arm in slices).
 */

const ZONE = "America/New_York"
const IDLE_SECONDS = 5
/** After a load that built a 1 GB heap, V8's concurrent marking and memory reducer run for seconds. */
const SETTLE_SECONDS = 5

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** CPU of this process (all threads) over `seconds` of wall time, in % of one core. */
async function idleCpu(seconds: number): Promise<number> {
  const before = process.cpuUsage()
  const wallBefore = performance.now()
  await sleep(seconds * 1000)
  const cpu = process.cpuUsage(before)
  return ((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100
}

function gcFunction(): () => void {
  setFlagsFromString("--expose_gc")
  return runInNewContext("gc") as () => void
}

/**
 * `count` daily tasks over 500 distinct expressions (people reuse schedules; the parse cache holds 1024),
 * none due within the next hour: their hours start two hours from now (in UTC; the zone's offset is whole
 * hours, so in the zone too).
 */
function tasks(count: number, now: number) {
  const hour = new Date(now).getUTCHours()
  const out = []
  for (let i = 0; i < count; i++) {
    const k = i % 500
    const id = ((i * 2_654_435_761) >>> 0).toString(16).padStart(8, "0")
    out.push({
      id,
      cron: `${k % 60} ${(hour + 2 + (k % 20)) % 24} * * *`,
      prompt: `task ${i}`,
      createdAt: now,
      recurring: true,
      permanent: true,
    })
  }
  // Ids must be unique in the file.
  const seen = new Set<string>()
  return out.filter((t) => !seen.has(t.id) && seen.add(t.id))
}

const rawNext = (expr: string, from: number) =>
  CronExpressionParser.parse(expr, { currentDate: from, tz: ZONE }).next().getTime()

export const schedulerBench: Bench = async () => {
  const count = Number(process.env.SCHED_BENCH_TASKS ?? 100_000)
  const gc = gcFunction()
  const root = fs.mkdtempSync(join(os.tmpdir(), "agh-sched-bench-"))
  const project = join(root, "project")
  fs.mkdirSync(join(project, ".claude"), { recursive: true })
  const now = Date.now()
  const list = tasks(count, now)
  fs.writeFileSync(taskFilePath(project), JSON.stringify({ tasks: list }))
  const rows: BenchRow[] = []
  try {
    // Next fire per task: raw cron-parser vs the scheduler's own computation (10k tasks of the set).
    const sample = list.slice(0, 10_000)
    for (const t of sample.slice(0, 500)) rawNext(t.cron, now)
    const raw = await opsPerSecond(sample.length, () => {
      for (const t of sample) rawNext(t.cron, now)
    })
    const params = (t: (typeof list)[number]) => ({
      taskId: t.id,
      cron: t.cron,
      recurring: true,
      fromMs: now,
      jitter: DEFAULT_CRON_JITTER_CONFIG,
    })
    const ours = await opsPerSecond(sample.length, () => {
      for (const t of sample) {
        planNextFire({
          params: params(t),
          now,
          zone: ZONE,
          createdAt: now,
          permanent: true,
          justFired: false,
        })
      }
    })
    rows.push(
      { name: "raw cron-parser parse + next(), per task", value: raw, unit: "ops/s" },
      {
        name: "planNextFire per task (jittered: two cron runs)",
        value: ours,
        unit: "ops/s",
        baseline: "raw cron-parser parse + next(), per task",
      },
    )

    // Raw load baseline: parse + next and a bare actor per task, no runtime, no log.
    const machine = cronTaskMachine.provide({ actions: { computeNextFire: () => {} } })
    const noTimers = { setTimeout: () => 0, clearTimeout: () => {} }
    const rawLoad = await opsPerSecond(sample.length, () => {
      for (const t of sample) {
        const fireAt = rawNext(t.cron, now)
        const actor = createActor(machine, {
          input: { task: { ...t, durable: true }, jitter: DEFAULT_CRON_JITTER_CONFIG },
          clock: noTimers,
        }).start()
        actor.send({ type: CRON_TASK_EVENT.scheduled, at: now, fireAt })
        actor.stop()
      }
    })
    const rawLoadUs = 1e6 / rawLoad

    // Load: file → every machine armed, on the real clock and the file event log.
    gc()
    const heapBefore = process.memoryUsage().heapUsed
    const started = performance.now()
    const timers = makeHeapClock(liveClock)
    const loopDelay = monitorEventLoopDelay({ resolution: 10 })
    loopDelay.enable()
    const scheduler = await startProjectScheduler({
      timers,
      projectDir: project,
      eventLog: fileEventLogLayer({ dir: join(root, "logs") }),
      clock: liveClock,
      zone: ZONE,
      lock: { intervalMs: 1_000 },
      fire: async () => "s_unused",
    })
    while (scheduler.armedTasks() < list.length) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      await scheduler.settle()
    }
    const loadSeconds = (performance.now() - started) / 1000
    loopDelay.disable()
    gc()
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20
    const loadUs = (loadSeconds * 1e6) / list.length
    rows.push(
      { name: "raw: cron-parser next + bare xstate actor, per task", value: rawLoadUs, unit: "µs" },
      {
        name: `load ${list.length} tasks: per task, file to armed machine`,
        value: loadUs,
        unit: "µs",
        baseline: "raw: cron-parser next + bare xstate actor, per task",
        lowerIsBetter: true,
      },
      { name: `load ${list.length} tasks: total`, value: loadSeconds, unit: "s" },
      { name: `heap with ${list.length} armed tasks`, value: heapMb, unit: "MB" },
      { name: "  per task", value: (heapMb * 1024) / list.length, unit: "KiB" },
      { name: "  longest event-loop stall while arming", value: loopDelay.max / 1e6, unit: "ms" },
    )

    // Idle: nothing due; what does holding 100k armed tasks cost?
    gc()
    await sleep(SETTLE_SECONDS * 1000)
    const idle = await idleCpu(IDLE_SECONDS)
    const pending = timers.pending()
    const baseTimers = timers.baseTimers()
    await scheduler.close()
    // Raw: the same heap of plain objects, one interval timer.
    gc()
    const ballast: unknown[] = []
    const perObject = 200
    for (let i = 0; i < (heapMb * 2 ** 20) / perObject; i++)
      ballast.push({ i, s: `task ${i}`, a: [i, i], o: { i } })
    const interval = setInterval(() => {}, 1000)
    gc()
    await sleep(SETTLE_SECONDS * 1000)
    const rawIdle = await idleCpu(IDLE_SECONDS)
    clearInterval(interval)
    ballast.length = 0
    rows.push(
      {
        name: `raw: idle CPU, ${Math.round(heapMb)} MB of plain objects, ${IDLE_SECONDS} s`,
        value: rawIdle,
        unit: "% of a core",
      },
      {
        name: `idle CPU, ${list.length} armed tasks, ${IDLE_SECONDS} s wall`,
        value: idle,
        unit: "% of a core",
        baseline: `raw: idle CPU, ${Math.round(heapMb)} MB of plain objects, ${IDLE_SECONDS} s`,
        lowerIsBetter: true,
      },
      { name: "  machine timers pending in the heap", value: pending, unit: "timers" },
      { name: "  real timers armed for them", value: baseTimers, unit: "timers" },
    )
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  return { title: `scheduler: ${count} durable tasks in one project (${ZONE})`, rows }
}
