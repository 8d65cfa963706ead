import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { formatIsoInZone } from "../cron/zonedIso.js"
import { hostTimeZone } from "../cron/zoneOffset.js"
import { logFilePath } from "../eventlog/fileEventLog.js"
import type { HistoryRow } from "../scheduler/schedulerHistory.js"
import { readSchedulerHistoryFile } from "../scheduler/schedulerHistory.js"
import { canonicalProjectDir, schedulerStreamName } from "../scheduler/schedulerStream.js"
import { TRIGGER_SCHEDULER_STREAM } from "../scheduler/triggerTasks.js"
import { CliError, failUsage, resolveHome } from "./cliCommand.js"
import { parseCommandArgs, projectDirFlag } from "./commandArgs.js"
import type { CronSubcommand } from "./cronCommand.js"
import { alignColumns } from "./textTable.js"

const DETAIL_WIDTH = 100

const HELP = `agenthost cron history [--project DIR | --triggers] [--limit N] [--all] [--json] [--home DIR]
  What the host's scheduler did with the project's tasks, oldest first: every fire (and the session its prompt
  went to), miss after downtime, skip, expiry, removal and scheduler-lock decision. Read from
  <home>/logs/sched-<hash>.aglog, written by \`agenthost serve\` (docs/scheduler.md).
  --project DIR    the project (default: the current directory)
  --triggers       the host's scheduled triggers instead (<home>/logs/sched-triggers.aglog; TASK is the trigger id)
  --limit N        only the last N rows
  --all            also machine starts and every computed next fire time
  --json           print { project, stream, log, rows: [{ seq, at, time, task, what, fire_at, session_id, detail }] }
  --home DIR       the host's state directory (default $AGENTHOST_HOME or ~/.agenthost)
`

const cut = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text)

function render(rows: ReadonlyArray<HistoryRow>, zone: string): string {
  return alignColumns([
    ["TIME", "TASK", "WHAT", "SESSION", "DETAIL"],
    ...rows.map((r) => [
      formatIsoInZone(r.at, zone),
      r.task ?? "-",
      r.what,
      r.session_id ?? "-",
      cut(r.detail, DETAIL_WIDTH),
    ]),
  ]).join("\n")
}

/** `agenthost cron history`. */
export const cronHistorySubcommand: CronSubcommand = {
  name: "history",
  summary: "what the host's scheduler did with the project's tasks: fires, misses, skips, expiries",
  help: HELP,
  run: async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, {
      project: { type: "string" },
      triggers: { type: "boolean" },
      limit: { type: "string" },
      all: { type: "boolean" },
      json: { type: "boolean" },
      home: { type: "string" },
    })
    if (positionals.length > 0)
      failUsage(`cron history takes no arguments, got ${JSON.stringify(positionals[0])}`)
    let limit: number | undefined
    if (values.limit !== undefined) {
      if (!/^\d{1,9}$/.test(values.limit))
        failUsage(`--limit: expected a non-negative integer, got ${JSON.stringify(values.limit)}`)
      limit = Number(values.limit)
    }
    if (values.triggers === true && values.project !== undefined)
      failUsage("--project and --triggers name different histories: give one")
    const home = resolveHome(values.home, io)
    let project: string | null = null
    let stream = TRIGGER_SCHEDULER_STREAM
    if (values.triggers !== true) {
      project = canonicalProjectDir(projectDirFlag(values.project, io))
      stream = schedulerStreamName(project)
    }
    const what = project ?? "the host's triggers"
    const log = logFilePath(join(home, "logs"), stream)
    const read = await Effect.runPromise(
      Effect.result(
        readSchedulerHistoryFile(log, {
          ...(limit === undefined ? {} : { limit }),
          all: values.all === true,
        }),
      ),
    )
    if (Result.isFailure(read)) {
      if (read.failure.reason !== "NotFound") throw new CliError(read.failure.code, read.failure.message, 1)
      io.stderr.write(
        `agenthost cron history: no scheduler history for ${what}: ${log} does not exist (no host with home ${home} has scheduled ${project === null ? "a trigger" : "this project"})\n`,
      )
      if (values.json === true) io.stdout.write(`${JSON.stringify({ project, stream, log, rows: [] })}\n`)
      return 0
    }
    const { rows } = read.success
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify({ project, stream, log, rows })}\n`)
      return 0
    }
    if (rows.length === 0) io.stdout.write(`no scheduler history for ${what} yet (${log})\n`)
    else io.stdout.write(`${render(rows, hostTimeZone())}\n`)
    return 0
  },
}
