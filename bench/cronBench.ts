import { CronExpressionParser } from "cron-parser"
import { jitteredNextCronRunMs } from "../src/cron/jitter.js"
import { nextCronRunMs } from "../src/cron/nextCronRun.js"
import { type Bench, medianOf, opsPerSecond } from "./harness.js"

const ZONE = "America/New_York"
const FROM = Date.UTC(2026, 2, 1, 12, 0)

/** `count` distinct expressions starting at `offset`: minute × hour × day-of-month, plus a weekday rule. */
function expressions(count: number, offset = 0): string[] {
  const out: string[] = []
  for (let i = offset; i < offset + count; i++) {
    const minute = i % 60
    const hour = Math.floor(i / 60) % 24
    const day = (Math.floor(i / 1440) % 28) + 1
    out.push(i % 3 === 0 ? `${minute} ${hour} * * 1-5` : `${minute} ${hour} ${day} * *`)
  }
  return out
}

const rawNext = (expr: string, from: number) =>
  CronExpressionParser.parse(expr, { currentDate: from, tz: ZONE }).next().getTime()

/**
 * Next-fire computation as the scheduler does it — once per task per fire, with the parse cached — against
 * cron-parser parsing and computing afresh; and parse + next of 10k distinct expressions (every parse a
 * cache miss) against cron-parser's parse + next of the same.
 */
export const cronBench: Bench = async () => {
  // Tasks: 500 distinct schedules (within the parse cache), each asked for its next fire 4 times.
  const tasks = expressions(500)
  const perTask = 4
  const bases = Array.from({ length: perTask }, (_, i) => FROM + i * 3_600_000 * 7)
  const taskOps = tasks.length * perTask
  // Warm up: zone tables, parse cache, JIT.
  for (const t of tasks) nextCronRunMs(t, FROM, ZONE)
  for (const t of tasks.slice(0, 200)) rawNext(t, FROM)

  const rawTask = await medianOf(3, () =>
    opsPerSecond(taskOps, () => {
      for (const base of bases) for (const t of tasks) rawNext(t, base)
    }),
  )
  const parsedOnce = tasks.map((t) => CronExpressionParser.parse(t, { currentDate: FROM, tz: ZONE }))
  const rawReset = await medianOf(3, () =>
    opsPerSecond(taskOps, () => {
      for (const base of bases) {
        for (const e of parsedOnce) {
          e.reset(new Date(base))
          e.next()
        }
      }
    }),
  )
  const ours = await medianOf(3, () =>
    opsPerSecond(taskOps, () => {
      for (const base of bases) for (const t of tasks) nextCronRunMs(t, base, ZONE)
    }),
  )
  const oursJittered = await medianOf(3, () =>
    opsPerSecond(taskOps, () => {
      for (const base of bases)
        for (const t of tasks) jitteredNextCronRunMs(t, base, "a1b2c3d4", undefined, ZONE)
    }),
  )

  // 10k distinct expressions, once (it takes seconds), none parsed before: every parse misses the cache.
  const distinct = 10_000
  const rawSet = expressions(distinct, 40_000)
  const rawDistinct = await opsPerSecond(distinct, () => {
    for (const e of rawSet) rawNext(e, FROM)
  })
  const oursSet = expressions(distinct, 10_000)
  const oursDistinct = await opsPerSecond(distinct, () => {
    for (const e of oursSet) nextCronRunMs(e, FROM, ZONE)
  })

  return {
    title: "cron: next fire time (America/New_York)",
    rows: [
      { name: "raw cron-parser parse + next, per task", value: rawTask, unit: "ops/s" },
      { name: "raw cron-parser reset + next, parsed once", value: rawReset, unit: "ops/s" },
      {
        name: "nextCronRunMs per task (cached parse)",
        value: ours,
        unit: "ops/s",
        baseline: "raw cron-parser parse + next, per task",
        target: 2,
      },
      {
        name: "  same, against cron-parser parsed once",
        value: ours,
        unit: "ops/s",
        baseline: "raw cron-parser reset + next, parsed once",
      },
      {
        name: "jitteredNextCronRunMs per task (two next runs)",
        value: oursJittered,
        unit: "ops/s",
        baseline: "raw cron-parser parse + next, per task",
      },
      { name: "raw cron-parser parse + next, 10k distinct", value: rawDistinct, unit: "ops/s" },
      {
        name: "parseCronExpression + nextCronRunMs, 10k distinct",
        value: oursDistinct,
        unit: "ops/s",
        baseline: "raw cron-parser parse + next, 10k distinct",
      },
    ],
  }
}
