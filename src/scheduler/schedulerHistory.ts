import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { EventLogShape } from "../eventlog/eventLog.js"
import type { EventLogError } from "../eventlog/eventLogError.js"
import { readLogFile, readLogFileHeader } from "../eventlog/logFileReader.js"
import type { LogRecord } from "../eventlog/logRecord.js"
import { CRON_TASK_EVENT } from "../machines/cronTaskTypes.js"
import { SCHEDULER_NOTE } from "./schedulerNotes.js"

/** What one history row says happened. */
export type HistoryWhat =
  /** An occurrence fired (its prompt handed over when `session_id` is set). */
  | "fired"
  /** An occurrence fell due while no scheduler ran; the task fired once, late. */
  | "missed"
  /** An occurrence was not fired (another host fired it, the task was gone, a late timer's backlog). */
  | "skipped"
  /** An occurrence could not be recorded or delivered. */
  | "failed"
  | "expired"
  | "deleted"
  /** The schedule never fires again: the task was removed. */
  | "completed"
  | "invalid"
  | "changed"
  | "lock"
  | "armed"
  | "disarmed"
  | "config"
  | "unreadable"
  | "error"
  /** Only with `all`: a machine started, a next fire time computed, a reschedule. */
  | "started"
  | "scheduled"

/** One line of `agenthost cron history` and `GET /cron/history`. */
export interface HistoryRow {
  readonly seq: number
  /** Epoch ms of the record. */
  readonly at: number
  /** The same, ISO-8601 (UTC). */
  readonly time: string
  readonly task: string | null
  readonly what: HistoryWhat
  readonly fire_at: string | null
  readonly fire_at_ms: number | null
  readonly session_id: string | null
  readonly detail: string
}

/** Options of the history readers. */
export interface HistoryOptions {
  /** Only the last `limit` rows. */
  readonly limit?: number
  /** Also machine starts, computed fire times and reschedules. */
  readonly all?: boolean
}

type MutableRow = { -readonly [K in keyof HistoryRow]: HistoryRow[K] }

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * `cronTask:0a1b2c3d` and `cronTask:0a1b2c3d@s_…` (session-only) → `0a1b2c3d`; a scheduled trigger's
 * `trigger:trg_…` → its trigger id.
 */
function taskOfActor(actor: string | undefined): string | null {
  if (actor?.startsWith("trigger:") === true) return actor.slice("trigger:".length)
  if (actor === undefined || !actor.startsWith("cronTask:")) return null
  const rest = actor.slice("cronTask:".length)
  const at = rest.indexOf("@")
  return at < 0 ? rest : rest.slice(0, at)
}

const num = (value: unknown): number | null => (typeof value === "number" ? value : null)
const str = (value: unknown): string | null => (typeof value === "string" ? value : null)

/**
 * Folds a scheduler stream into readable rows. A machine's `cronTask.fired` / `cronTask.missed` and the
 * scheduler's note about that fire (`handedOver`, `fireSkipped`, `fireFailed`) become one row: the fire,
 * with the session it went to or why it did not.
 */
export function makeHistoryFolder(options: HistoryOptions = {}) {
  const rows: MutableRow[] = []
  /** Fire rows still waiting for their outcome, by actor. */
  const open = new Map<string, MutableRow[]>()

  const push = (
    record: LogRecord,
    row: Omit<MutableRow, "seq" | "at" | "time">,
    at: number = record.at,
  ): MutableRow => {
    const full: MutableRow = { seq: record.seq, at, time: iso(at), ...row }
    rows.push(full)
    // With a limit, older rows are dropped as the fold goes, so a long stream costs `limit` rows of memory.
    if (options.limit !== undefined && rows.length > 2 * options.limit + 1024) {
      rows.splice(0, rows.length - options.limit)
    }
    return full
  }

  const openFire = (actor: string, row: MutableRow) => {
    const list = open.get(actor) ?? []
    list.push(row)
    open.set(actor, list)
  }

  const takeFire = (actor: string, fireAt: number | null): MutableRow | undefined => {
    const list = open.get(actor)
    if (list === undefined) return undefined
    const index = list.findIndex((r) => r.fire_at_ms === fireAt)
    if (index < 0) return undefined
    const [row] = list.splice(index, 1)
    if (list.length === 0) open.delete(actor)
    return row
  }

  const fireOutcome = (record: LogRecord & { body: { type: "note" } }) => {
    const { body } = record
    const data = (body.data ?? {}) as Record<string, unknown>
    const actor = body.actor ?? ""
    const fireAt = num(data.fireAt)
    const row =
      takeFire(actor, fireAt) ??
      push(
        record,
        {
          task: taskOfActor(body.actor) ?? str(data.taskId),
          what: data.missed === true ? "missed" : "fired",
          fire_at: fireAt === null ? null : iso(fireAt),
          fire_at_ms: fireAt,
          session_id: null,
          detail: fireAt === null ? "" : `due ${iso(fireAt)}`,
        },
        num(data.at) ?? record.at,
      )
    if (body.code === SCHEDULER_NOTE.handedOver) {
      row.session_id = str(data.sessionId)
      row.detail = `${row.detail}; prompt handed to session ${row.session_id ?? "?"}`
    } else if (body.code === SCHEDULER_NOTE.fireSkipped) {
      row.what = "skipped"
      row.detail = body.message
    } else {
      row.what = "failed"
      row.detail = typeof data.code === "string" ? `${data.code}: ${body.message}` : body.message
    }
  }

  const step = (record: LogRecord): void => {
    const body = record.body
    if (body.type === "actor.started") {
      if (options.all === true && body.machine === "cronTask") {
        push(record, {
          task: taskOfActor(body.actor),
          what: "started",
          fire_at: null,
          fire_at_ms: null,
          session_id: null,
          detail: `machine started (${body.actor})`,
        })
      }
      return
    }
    if (body.type === "event") {
      const task = taskOfActor(body.actor)
      if (task === null) return
      const event = body.event
      const fireAt = num(event.fireAt)
      const base = {
        task,
        fire_at: fireAt === null ? null : iso(fireAt),
        fire_at_ms: fireAt,
        session_id: null,
      }
      // When it happened, by the event's own time: the record's is when the log took it.
      const when = num(event.at) ?? (event.type === CRON_TASK_EVENT.fired ? fireAt : null) ?? record.at
      const row = (fields: Pick<MutableRow, "what" | "detail">) => push(record, { ...base, ...fields }, when)
      switch (event.type) {
        case CRON_TASK_EVENT.fired:
          openFire(body.actor, row({ what: "fired", detail: `due ${base.fire_at ?? "?"}` }))
          return
        case CRON_TASK_EVENT.missed:
          openFire(
            body.actor,
            row({
              what: "missed",
              detail: `fell due at ${base.fire_at ?? "?"} while no scheduler ran; fired once, late`,
            }),
          )
          return
        case CRON_TASK_EVENT.skipped:
          row({ what: "skipped", detail: str(event.reason) ?? "skipped" })
          return
        case CRON_TASK_EVENT.expired:
          row({ what: "expired", detail: "recurring task expired (it was not permanent); removed" })
          return
        case CRON_TASK_EVENT.deleted:
          row({ what: "deleted", detail: "removed from the tasks file" })
          return
        case CRON_TASK_EVENT.invalid:
          row({ what: "invalid", detail: str(event.message) ?? "invalid" })
          return
        case CRON_TASK_EVENT.scheduled:
          if (fireAt === null) row({ what: "completed", detail: "the schedule never fires again; removed" })
          else if (options.all === true) row({ what: "scheduled", detail: `next fire at ${base.fire_at}` })
          return
        case CRON_TASK_EVENT.configChanged:
          if (options.all === true)
            row({ what: "scheduled", detail: "rescheduled with a new jitter configuration" })
          return
        default:
          return
      }
    }
    const data = (body.data ?? {}) as Record<string, unknown>
    const plain = (what: HistoryWhat, detail = body.message) =>
      push(
        record,
        {
          task: taskOfActor(body.actor) ?? str(data.taskId),
          what,
          fire_at: null,
          fire_at_ms: null,
          session_id: null,
          detail,
        },
        num(data.at) ?? record.at,
      )
    switch (body.code) {
      case SCHEDULER_NOTE.handedOver:
      case SCHEDULER_NOTE.fireSkipped:
      case SCHEDULER_NOTE.fireFailed:
        fireOutcome(record as LogRecord & { body: { type: "note" } })
        return
      case SCHEDULER_NOTE.lock:
        plain("lock")
        return
      case SCHEDULER_NOTE.armed:
        plain("armed")
        return
      case SCHEDULER_NOTE.disarmed:
        plain("disarmed")
        return
      case SCHEDULER_NOTE.taskChanged:
        plain("changed")
        return
      case SCHEDULER_NOTE.tasksUnreadable:
        plain("unreadable")
        return
      case SCHEDULER_NOTE.configChanged:
        plain("config", `${body.message}: ${JSON.stringify(data.jitter ?? body.data)}`)
        return
      default:
        plain("error", `${body.code}: ${body.message}`)
    }
  }

  return {
    step,
    rows: (): ReadonlyArray<HistoryRow> => {
      const limit = options.limit
      return limit === undefined || limit >= rows.length ? rows : rows.slice(rows.length - limit)
    },
  }
}

/** {@link makeHistoryFolder} over a list of records. */
export function historyOf(
  records: Iterable<LogRecord>,
  options: HistoryOptions = {},
): ReadonlyArray<HistoryRow> {
  const folder = makeHistoryFolder(options)
  for (const record of records) folder.step(record)
  return folder.rows()
}

/** A scheduler stream, read back. */
export interface SchedulerHistory {
  readonly stream: string
  /** The project, from the stream's header (`meta.project`). */
  readonly project: string | null
  readonly rows: ReadonlyArray<HistoryRow>
}

/** The history of `stream` in an event log (any backend). */
export function readSchedulerHistory(
  log: EventLogShape,
  stream: string,
  options: HistoryOptions = {},
): Effect.Effect<SchedulerHistory, EventLogError> {
  return Effect.gen(function* () {
    const header = yield* log.header(stream)
    const folder = makeHistoryFolder(options)
    yield* log.read(stream).pipe(Stream.runForEach((record) => Effect.sync(() => folder.step(record))))
    return { stream, project: str(header.meta.project), rows: folder.rows() }
  })
}

/**
 * The history in a scheduler log file (`<home>/logs/sched-<hash>.aglog`), streamed: a long history is never
 * held in memory as records, only as rows. Fails with the log's coded errors (`AGH_LOG_NOT_FOUND`, ...).
 *
 * @example
 * const history = await Effect.runPromise(readSchedulerHistoryFile(logFilePath(logsDir, schedulerStreamName(dir)), { limit: 50 }))
 */
export function readSchedulerHistoryFile(
  path: string,
  options: HistoryOptions = {},
): Effect.Effect<SchedulerHistory, EventLogError> {
  return Effect.gen(function* () {
    const header = yield* readLogFileHeader(path)
    const folder = makeHistoryFolder(options)
    yield* readLogFile(path).pipe(Stream.runForEach((record) => Effect.sync(() => folder.step(record))))
    return { stream: header.stream, project: str(header.meta.project), rows: folder.rows() }
  })
}
