import { existsSync } from "node:fs"
import { resolve } from "node:path"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import { isValidStreamName } from "../eventlog/eventLog.js"
import { EventLogError } from "../eventlog/eventLogError.js"
import { LOG_FILE_EXTENSION, logFilePath } from "../eventlog/fileEventLog.js"
import { readLogFile, readLogFileHeader } from "../eventlog/logFileReader.js"
import { replayStream, type TimelineEntry } from "../eventlog/replay.js"
import { ReplayError } from "../eventlog/replayError.js"
import { formatTimelineLine, timelineEntryJson } from "../eventlog/replayTimeline.js"
import { homeLayout } from "../server/home.js"
import { type CliCommand, CliError, type CliIo, resolveHome } from "./cliCommand.js"
import { parseCommandArgs } from "./commandArgs.js"

const HELP = `Usage: agenthost replay <log-file|session-id> [--verify] [--json] [--follow] [--home DIR]

The timeline of an event log: one line per record with its time, seq, actor, event type and the
machine state before → after. Every record is replayed through this build's machines; records whose
state or context do not reproduce are marked.

  <log-file>      a .aglog file
  <session-id>    the log of that session, <home>/logs/<session-id>.aglog
  --verify        stop at the first record that does not reproduce (or cannot be checked: unknown
                  machine, other machine version) and exit 1, naming its seq, actor, expected and got
  --json          one JSON object per record instead of text
  --follow        keep printing records as they are appended (Ctrl-C to stop)
  --home DIR      agenthost home (default $AGENTHOST_HOME or ~/.agenthost)

Exit status: 0 when the log was read (every record reproduced, with --verify); 1 at a divergence with
--verify; 2 when the log cannot be read.
`

/** Where the log named on the command line lives. */
export function resolveLogPath(target: string, home: string, cwd: string): string {
  const looksLikePath = target.includes("/") || target.includes("\\") || target.endsWith(LOG_FILE_EXTENSION)
  if (looksLikePath || existsSync(resolve(cwd, target)) || !isValidStreamName(target))
    return resolve(cwd, target)
  return logFilePath(homeLayout(home).logsDir, target)
}

/** Writes, waiting for the pipe to drain when it is full, so a huge timeline into `less` stays bounded. */
function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((done, fail) => {
    const ok = out.write(text, (err) => (err ? fail(err) : undefined))
    if (ok) done()
    else out.once("drain", () => done())
  })
}

const render = (entry: TimelineEntry, json: boolean): string =>
  json ? JSON.stringify(timelineEntryJson(entry)) : formatTimelineLine(entry)

/** `agenthost replay`: the timeline of a log, verified against this build's machines. */
export const replayCommand: CliCommand = {
  name: "replay",
  summary: "print (and --verify) the timeline of a session's event log",
  help: HELP,
  run: async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, {
      verify: { type: "boolean" },
      json: { type: "boolean" },
      follow: { type: "boolean" },
      home: { type: "string" },
    })
    if (positionals.length !== 1) {
      throw new CliError(
        "AGH_CLI_USAGE",
        `expected one log file or session id, got ${positionals.length} arguments`,
      )
    }
    const path = resolveLogPath(positionals[0] as string, resolveHome(values.home, io), io.cwd)
    return replayFile(
      path,
      { verify: values.verify === true, json: values.json === true, follow: values.follow === true },
      io,
    )
  },
}

interface ReplayFlags {
  readonly verify: boolean
  readonly json: boolean
  readonly follow: boolean
}

async function replayFile(path: string, flags: ReplayFlags, io: CliIo): Promise<number> {
  // The header first: a missing file or an unknown format is reported before anything is printed.
  const header = await Effect.runPromiseExit(readLogFileHeader(path))
  if (Exit.isFailure(header)) throw logFailure(header.cause)

  let divergence: ReplayError | undefined
  const program = replayStream(readLogFile(path, { follow: flags.follow })).pipe(
    Stream.runForEachArray((entries) =>
      Effect.promise(async () => {
        let text = ""
        let warnings = ""
        for (const entry of entries) {
          if (divergence !== undefined) break
          text += `${render(entry, flags.json)}\n`
          if (entry.issue === undefined) continue
          if (flags.verify) divergence = entry.issue
          else warnings += `agenthost replay: warning: ${entry.issue.code}: ${entry.issue.message}\n`
        }
        await write(io.stdout, text)
        if (warnings !== "") await write(io.stderr, warnings)
      }).pipe(Effect.andThen(() => (divergence === undefined ? Effect.void : Effect.fail(divergence)))),
    ),
  )
  const exit = await Effect.runPromiseExit(program)
  if (Exit.isSuccess(exit)) return 0
  if (divergence !== undefined) {
    io.stderr.write(`agenthost replay: ${divergence.code}: ${divergence.message}\n`)
    return 1
  }
  throw logFailure(exit.cause)
}

function logFailure(cause: Cause.Cause<unknown>): CliError {
  const error = Cause.squash(cause)
  if (error instanceof EventLogError) return new CliError(error.code, error.message)
  if (error instanceof ReplayError) return new CliError(error.code, error.message, 1)
  return new CliError(
    "AGH_INTERNAL",
    error instanceof Error ? (error.stack ?? error.message) : String(error),
    70,
  )
}
