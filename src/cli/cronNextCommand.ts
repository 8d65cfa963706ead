import * as Result from "effect/Result"
import { liveClock } from "../adapters/clock.js"
import { type CronSchedule, parseCronExpression } from "../cron/cronExpression.js"
import { jitteredNextCronRunMs, oneShotJitteredNextCronRunMs } from "../cron/jitter.js"
import { DEFAULT_CRON_JITTER_CONFIG } from "../cron/jitterConfig.js"
import { NEXT_RUN_HORIZON_MS, nextRunOfSchedule } from "../cron/nextCronRun.js"
import { formatIsoInZone, parseIsoInZone } from "../cron/zonedIso.js"
import { checkTimeZone, hostTimeZone } from "../cron/zoneOffset.js"
import { CliError, failUsage } from "./cliCommand.js"
import { parseCommandArgs } from "./commandArgs.js"
import type { CronSubcommand } from "./cronCommand.js"

const TASK_ID = /^[0-9a-f]{8}$/
const MAX_COUNT = 1000
const DEFAULT_COUNT = 5

const HELP = `agenthost cron next "<expr>" [--from ISO] [--tz ZONE] [--count N] [--task-id HEX8 (--recurring|--one-shot)] [--json]
  The next fire times of a 5-field cron expression (Vixie cron semantics, cronie's daylight-saving policy),
  as ISO-8601 with the zone's offset, one per line.
  --from ISO       start strictly after this time (default: now); without an offset it is wall-clock time in the zone
  --tz ZONE        IANA time zone (default: the host's)
  --count N        how many times to print, 1..${MAX_COUNT} (default ${DEFAULT_COUNT}; 1 with --one-shot)
  --task-id HEX8   apply the deterministic jitter of the task with this id, as a --recurring task (fires up to
                   10% of the interval late, at most 15 min) or a --one-shot task (up to 90 s early on :00 and :30)
  --json           print a JSON array of strings
`

interface Plan {
  readonly expression: string
  readonly schedule: CronSchedule
  readonly zone: string
  readonly from: number
  readonly count: number
  readonly jitter?: { readonly taskId: string; readonly mode: "recurring" | "one-shot" }
}

function plan(args: ReadonlyArray<string>): Plan & { readonly json: boolean } {
  const { values, positionals } = parseCommandArgs(args, {
    from: { type: "string" },
    tz: { type: "string" },
    count: { type: "string" },
    "task-id": { type: "string" },
    recurring: { type: "boolean" },
    "one-shot": { type: "boolean" },
    json: { type: "boolean" },
    // Every command takes --home; this one reads nothing there.
    home: { type: "string" },
  })
  if (positionals.length !== 1) {
    failUsage(`expected one cron expression (quote it: "*/5 * * * *"), got ${positionals.length} arguments`)
  }
  const expression = positionals[0]!
  const parsed = parseCronExpression(expression)
  if (Result.isFailure(parsed)) throw new CliError(parsed.failure.code, parsed.failure.message)
  const zoneResult = checkTimeZone(values.tz ?? hostTimeZone())
  if (Result.isFailure(zoneResult)) throw new CliError(zoneResult.failure.code, zoneResult.failure.message)
  const zone = zoneResult.success
  const taskId = values["task-id"]
  const recurring = values.recurring === true
  const oneShot = values["one-shot"] === true
  let jitter: Plan["jitter"]
  if (taskId !== undefined) {
    if (!TASK_ID.test(taskId)) {
      throw new CliError(
        "AGH_CRON_INVALID",
        `task id ${JSON.stringify(taskId)} is not 8 lowercase hex characters`,
      )
    }
    if (recurring === oneShot) failUsage("--task-id needs exactly one of --recurring and --one-shot")
    jitter = { taskId, mode: recurring ? "recurring" : "one-shot" }
  } else if (recurring || oneShot) {
    failUsage(`--${recurring ? "recurring" : "one-shot"} needs --task-id HEX8`)
  }
  let count = oneShot ? 1 : DEFAULT_COUNT
  if (values.count !== undefined) {
    if (!/^\d+$/.test(values.count) || Number(values.count) < 1 || Number(values.count) > MAX_COUNT) {
      failUsage(`--count ${JSON.stringify(values.count)} is not a whole number from 1 to ${MAX_COUNT}`)
    }
    count = Number(values.count)
    if (oneShot && count !== 1) failUsage("a one-shot task fires once: --count must be 1 with --one-shot")
  }
  let from = liveClock.now()
  if (values.from !== undefined) {
    const parsedFrom = parseIsoInZone(values.from, zone)
    if (parsedFrom === null) {
      failUsage(
        `--from ${JSON.stringify(values.from)} is not an ISO-8601 date-time (e.g. 2026-03-08T01:30:00-05:00)`,
      )
    }
    from = parsedFrom
  }
  return {
    expression,
    schedule: parsed.success,
    zone,
    from,
    count,
    json: values.json === true,
    ...(jitter === undefined ? {} : { jitter }),
  }
}

/** The fire times, each after the previous; a recurring task's next base is when it last fired. */
function fireTimes(p: Plan): number[] {
  const out: number[] = []
  let base = p.from
  while (out.length < p.count) {
    const next =
      p.jitter === undefined
        ? nextRunOfSchedule(p.schedule, base, p.zone)
        : p.jitter.mode === "recurring"
          ? jitteredNextCronRunMs(p.expression, base, p.jitter.taskId, DEFAULT_CRON_JITTER_CONFIG, p.zone)
          : oneShotJitteredNextCronRunMs(
              p.expression,
              base,
              p.jitter.taskId,
              DEFAULT_CRON_JITTER_CONFIG,
              p.zone,
            )
    if (next === null) break
    out.push(next)
    base = next
  }
  return out
}

/** `agenthost cron next`: what a schedule does, without creating a task. */
export const cronNextSubcommand: CronSubcommand = {
  name: "next",
  summary: "the next fire times of a cron expression (with --task-id, after jitter)",
  help: HELP,
  run: async (args, io) => {
    const p = plan(args)
    const times = fireTimes(p).map((t) => formatIsoInZone(t, p.zone))
    if (times.length === 0) {
      if (p.json) io.stdout.write("[]\n")
      const years = Math.round(NEXT_RUN_HORIZON_MS / (365.25 * 86_400_000))
      throw new CliError(
        "AGH_CRON_NO_NEXT_RUN",
        `${JSON.stringify(p.expression)} never fires after ${formatIsoInZone(p.from, p.zone)} in ${p.zone} (looked ${years} years ahead)`,
        1,
      )
    }
    io.stdout.write(p.json ? `${JSON.stringify(times)}\n` : `${times.join("\n")}\n`)
    return 0
  },
}
