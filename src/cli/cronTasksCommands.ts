import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { liveClock } from "../adapters/clock.js"
import { parseCronExpression } from "../cron/cronExpression.js"
import { makeFileTaskStore } from "../cron/fileTaskStore.js"
import { nextRunOfSchedule } from "../cron/nextCronRun.js"
import type { ScheduledTask } from "../cron/taskFile.js"
import { taskExpiresAtMs, taskNextFireMs } from "../cron/taskStore.js"
import { type TaskStoreError, taskNotFound } from "../cron/taskStoreError.js"
import { formatIsoInZone } from "../cron/zonedIso.js"
import { hostTimeZone } from "../cron/zoneOffset.js"
import { registerCronProject } from "../scheduler/schedulerConfigFile.js"
import { CliError, failUsage, resolveHome } from "./cliCommand.js"
import { parseCommandArgs, projectDirFlag } from "./commandArgs.js"
import type { CronSubcommand } from "./cronCommand.js"
import { alignColumns } from "./textTable.js"

const PROMPT_WIDTH = 60
const PROJECT_HELP =
  "  --project DIR    the project whose .claude/scheduled_tasks.json to use (default: the current directory)"

/** Bad arguments exit 2, as usage errors do; a state of the world (missing task, corrupt file) exits 1. */
const USAGE_LIKE = new Set(["AGH_CRON_INVALID", "AGH_TASK_INVALID"])

function cliErrorOf(error: TaskStoreError): CliError {
  return new CliError(error.code, error.message, USAGE_LIKE.has(error.code) ? 2 : 1)
}

async function run<A>(effect: Effect.Effect<A, TaskStoreError>): Promise<A> {
  const result = await Effect.runPromise(Effect.result(effect))
  if (Result.isFailure(result)) throw cliErrorOf(result.failure)
  return result.success
}

/** A task as `--json` prints it: every field present, times as ISO-8601 in the host's zone and as epoch ms. */
function taskJson(task: ScheduledTask, zone: string, file: string) {
  const next = taskNextFireMs(task, undefined, zone)
  const expires = taskExpiresAtMs(task)
  return {
    id: task.id,
    cron: task.cron,
    prompt: task.prompt,
    recurring: task.recurring === true,
    permanent: task.permanent === true,
    createdAt: task.createdAt,
    lastFiredAt: task.lastFiredAt ?? null,
    nextFireAt: next === null ? null : formatIsoInZone(next, zone),
    nextFireAtMs: next,
    expiresAt: expires === null ? null : formatIsoInZone(expires, zone),
    file,
  }
}

const ADD_HELP = `agenthost cron add "<cron>" "<prompt>" [--recurring|--one-shot] [--permanent] [--project DIR] [--json]
  Adds a durable task to the project's .claude/scheduled_tasks.json (created if missing) and prints its id,
  then its next fire time after jitter, in the host's zone.
  --recurring      fire on every match of the schedule (the default); expires after 7 days unless --permanent
  --one-shot       fire once, at the next match, then be removed
  --permanent      a recurring task that never expires
${PROJECT_HELP}
  --json           print the task as a JSON object
`

/** `agenthost cron add`. */
export const cronAddSubcommand: CronSubcommand = {
  name: "add",
  summary: "add a durable task to the project",
  help: ADD_HELP,
  run: async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, {
      recurring: { type: "boolean" },
      "one-shot": { type: "boolean" },
      permanent: { type: "boolean" },
      project: { type: "string" },
      json: { type: "boolean" },
      home: { type: "string" },
    })
    if (positionals.length !== 2) {
      failUsage(
        `expected a cron expression and a prompt (quote each: "*/5 * * * *" "check the build"), got ${positionals.length} arguments`,
      )
    }
    const [cron, prompt] = positionals as [string, string]
    if (values.recurring === true && values["one-shot"] === true)
      failUsage("--recurring and --one-shot exclude each other")
    const recurring = values["one-shot"] !== true
    if (values.permanent === true && !recurring)
      failUsage("--permanent applies to recurring tasks only: a one-shot task never expires")
    const parsed = parseCronExpression(cron)
    if (Result.isFailure(parsed)) throw new CliError(parsed.failure.code, parsed.failure.message)
    const zone = hostTimeZone()
    // A schedule that can never fire (Feb 30) is refused rather than stored to do nothing.
    if (nextRunOfSchedule(parsed.success, liveClock.now(), zone) === null) {
      throw new CliError(
        "AGH_CRON_NO_NEXT_RUN",
        `${JSON.stringify(cron)} never fires (looked 100 years ahead)`,
        1,
      )
    }
    const project = projectDirFlag(values.project, io)
    const store = makeFileTaskStore(project)
    const task = await run(
      store.add({ cron, prompt, recurring, ...(values.permanent === true ? { permanent: true } : {}) }),
    )
    // The host (same <home>) polls this registry, so a running `agenthost serve` schedules the project too.
    try {
      registerCronProject(resolveHome(values.home, io), project)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      throw new CliError(typeof code === "string" ? code : "AGH_CRON_REGISTRY_IO", (error as Error).message)
    }
    const json = taskJson(task, zone, store.location)
    if (values.json === true) io.stdout.write(`${JSON.stringify(json)}\n`)
    else io.stdout.write(`${task.id}\nnext fire: ${json.nextFireAt ?? "never"}\n`)
    return 0
  },
}

/** The prompt on one line, cut to `width` characters. */
function promptCell(prompt: string, width = PROMPT_WIDTH): string {
  const flat = prompt.replace(/\s+/g, " ").trim()
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat
}

/** What the NEXT FIRE column says: the time, marked when it has passed or falls after expiry. */
function nextFireCell(task: ScheduledTask, zone: string, now: number): string {
  const next = taskNextFireMs(task, undefined, zone)
  const expires = taskExpiresAtMs(task)
  if (expires !== null && now >= expires) return `expired ${formatIsoInZone(expires, zone)}`
  if (next === null) return "never"
  if (expires !== null && next >= expires) return `never (expires ${formatIsoInZone(expires, zone)})`
  return next < now ? `${formatIsoInZone(next, zone)} (overdue)` : formatIsoInZone(next, zone)
}

const LS_HELP = `agenthost cron ls [--project DIR] [--json]
  Lists the project's durable tasks: id, cron, recurring (yes, permanent or no), next fire time after jitter
  in the host's zone, and the prompt (cut to ${PROMPT_WIDTH} characters). Entries of the file that are not valid
  tasks are reported on stderr (AGH_TASKS_CORRUPT) and not listed; a corrupt file is an error.
${PROJECT_HELP}
  --json           print { file, tasks: [...], invalid: [{ index, id, field, message }] }
`

/** `agenthost cron ls`. */
export const cronLsSubcommand: CronSubcommand = {
  name: "ls",
  summary: "list the project's durable tasks with their next fire times",
  help: LS_HELP,
  run: async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, {
      project: { type: "string" },
      json: { type: "boolean" },
      home: { type: "string" },
    })
    if (positionals.length > 0) failUsage(`cron ls takes no arguments, got ${JSON.stringify(positionals[0])}`)
    const store = makeFileTaskStore(projectDirFlag(values.project, io))
    const listing = await run(store.list())
    if (listing.error !== undefined) throw cliErrorOf(listing.error)
    const zone = hostTimeZone()
    const now = liveClock.now()
    for (const problem of listing.invalid)
      io.stderr.write(`agenthost cron ls: ${problem.code}: ${problem.message}\n`)
    if (values.json === true) {
      const out = {
        file: store.location,
        tasks: listing.tasks.map((t) => {
          const { file: _file, ...rest } = taskJson(t, zone, store.location)
          return rest
        }),
        invalid: listing.invalid.map((p) => ({
          index: p.index ?? null,
          id: p.taskId ?? null,
          field: p.field ?? null,
          message: p.message,
        })),
      }
      io.stdout.write(`${JSON.stringify(out)}\n`)
      return 0
    }
    if (listing.tasks.length === 0) {
      io.stdout.write(`no scheduled tasks in ${store.location}\n`)
      return 0
    }
    const rows = [
      ["ID", "CRON", "RECURRING", "NEXT FIRE", "PROMPT"],
      ...listing.tasks.map((t) => [
        t.id,
        t.cron,
        t.recurring === true ? (t.permanent === true ? "permanent" : "yes") : "no",
        nextFireCell(t, zone, now),
        promptCell(t.prompt),
      ]),
    ]
    io.stdout.write(`${alignColumns(rows).join("\n")}\n`)
    return 0
  },
}

const RM_HELP = `agenthost cron rm ID [--project DIR]
  Removes the durable task ID from the project (also an invalid entry with that id); AGH_TASK_NOT_FOUND if
  there is none.
${PROJECT_HELP}
`

/** `agenthost cron rm`. */
export const cronRmSubcommand: CronSubcommand = {
  name: "rm",
  summary: "remove a durable task from the project",
  help: RM_HELP,
  run: async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, {
      project: { type: "string" },
      home: { type: "string" },
    })
    if (positionals.length !== 1 || positionals[0] === "") {
      failUsage(`expected one task id, got ${positionals.length} arguments`)
    }
    const id = positionals[0]!
    const store = makeFileTaskStore(projectDirFlag(values.project, io))
    const removed = await run(store.remove(id))
    if (!removed) throw cliErrorOf(taskNotFound(store.location, id))
    io.stdout.write(`removed ${id}\n`)
    return 0
  },
}
