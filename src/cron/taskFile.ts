import { join } from "node:path"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { parseCronExpression } from "./cronExpression.js"
import { TaskStoreError } from "./taskStoreError.js"

/** The durable tasks file's name, inside the project's `.claude/` directory (shared with Claude Code). */
export const TASK_FILE_NAME = "scheduled_tasks.json"

/** A task id: 8 lowercase hex characters (SPEC §7). */
export const TASK_ID_PATTERN = /^[0-9a-f]{8}$/

/** `<projectDir>/.claude/scheduled_tasks.json`. */
export function taskFilePath(projectDir: string): string {
  return join(projectDir, ".claude", TASK_FILE_NAME)
}

/**
 * A scheduled task (SPEC §7). `durable` and `agentId` exist only at run time: the durable store sets
 * `durable: true` on what it reads and never writes either field.
 */
export interface ScheduledTask {
  /** 8 lowercase hex characters; also the jitter seed. */
  readonly id: string
  /** 5-field cron expression (or `@keyword`), Vixie cron semantics. */
  readonly cron: string
  readonly prompt: string
  /** Epoch ms. */
  readonly createdAt: number
  readonly lastFiredAt?: number
  /** Absent means one-shot (as Claude Code reads it). */
  readonly recurring?: boolean
  /** A recurring task that never expires. */
  readonly permanent?: boolean
  readonly durable?: boolean
  readonly agentId?: string
}

const CronText = Schema.String.check(
  Schema.makeFilter((text: string) => {
    const parsed = parseCronExpression(text)
    return Result.isSuccess(parsed) ? undefined : parsed.failure.message
  }),
)

/**
 * One entry of the tasks file. Fields this schema does not name are allowed and kept: Claude Code writes
 * the same file and may add fields of its own.
 */
export const ScheduledTaskSchema = Schema.StructWithRest(
  Schema.Struct({
    id: Schema.String.check(
      Schema.isPattern(TASK_ID_PATTERN, { message: "must be 8 lowercase hex characters" }),
    ),
    cron: CronText,
    prompt: Schema.String.check(
      Schema.makeFilter((text: string) => (text.trim() === "" ? "must not be blank" : undefined)),
    ),
    createdAt: Schema.Finite,
    lastFiredAt: Schema.optionalKey(Schema.Finite),
    recurring: Schema.optionalKey(Schema.Boolean),
    permanent: Schema.optionalKey(Schema.Boolean),
  }),
  [Schema.Record(Schema.String, Schema.Unknown)],
)

const decodeEntry = Schema.decodeUnknownResult(ScheduledTaskSchema, { errors: "first" })
const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

/** The file as read: the top-level object and its `tasks` entries, every unknown key and bad entry included. */
export interface TaskFileDocument {
  /** The top-level object, `tasks` included when it was there. */
  readonly root: Readonly<Record<string, unknown>>
  /** The `tasks` array as read (empty when the key was absent or the file missing). */
  readonly entries: ReadonlyArray<unknown>
}

/** A readable tasks file: what to schedule, what to report, and the document to edit for a rewrite. */
export interface TaskFileView {
  /** The valid entries, in file order, as {@link ScheduledTask}s (known fields only, `durable: true`). */
  readonly tasks: ReadonlyArray<ScheduledTask>
  /** One `InvalidTask` report per entry that is kept in the file but not scheduled. */
  readonly invalid: ReadonlyArray<TaskStoreError>
  readonly document: TaskFileDocument
}

/** The view of a missing file: no tasks. */
export const EMPTY_TASK_FILE_VIEW: TaskFileView = Object.freeze({
  tasks: [],
  invalid: [],
  document: { root: {}, entries: [] },
})

function describeJson(value: unknown): string {
  if (value === undefined) return "nothing"
  if (Array.isArray(value)) return "an array"
  const json = JSON.stringify(value)
  return json.length > 40 ? `${json.slice(0, 40)}…` : json
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

function corrupt(location: string, message: string, field?: string, cause?: unknown): TaskStoreError {
  return new TaskStoreError({
    reason: "CorruptFile",
    location,
    message: `${location}: ${message}; refusing to write to it until it is fixed or removed`,
    ...(field === undefined ? {} : { field }),
    ...(cause === undefined ? {} : { cause }),
  })
}

function invalidEntry(
  location: string,
  index: number,
  entry: unknown,
  field: string | undefined,
  problem: string,
): TaskStoreError {
  const id = isPlainObject(entry) && typeof entry.id === "string" ? entry.id : undefined
  const idText = id === undefined ? "" : ` (id ${JSON.stringify(id)})`
  const fieldText = field === undefined ? "" : `field ${JSON.stringify(field)}: `
  return new TaskStoreError({
    reason: "InvalidTask",
    location,
    index,
    ...(id === undefined ? {} : { taskId: id }),
    ...(field === undefined ? {} : { field }),
    message: `${location}: task [${index}]${idText}: ${fieldText}${problem}; kept in the file, not scheduled`,
  })
}

/** The fields the file keeps, in the order they are written (never `durable`, `agentId`). */
function fileFields(task: ScheduledTask) {
  return {
    id: task.id,
    cron: task.cron,
    prompt: task.prompt,
    createdAt: task.createdAt,
    ...(task.lastFiredAt === undefined ? {} : { lastFiredAt: task.lastFiredAt }),
    ...(task.recurring === undefined ? {} : { recurring: task.recurring }),
    ...(task.permanent === undefined ? {} : { permanent: task.permanent }),
  }
}

/** The known fields of a validated entry, as the scheduler sees them. */
function taskOf(entry: Record<string, unknown>): ScheduledTask {
  return { ...fileFields(entry as unknown as ScheduledTask), durable: true }
}

/**
 * Validates one entry of `tasks`. The error (reason `InvalidTask`) names the file, the index, the id when
 * the entry has a string one, and the first field at fault with the value found.
 */
export function validateTaskEntry(
  entry: unknown,
  index: number,
  location: string,
): Result.Result<ScheduledTask, TaskStoreError> {
  const decoded = decodeEntry(entry)
  if (Result.isSuccess(decoded)) return Result.succeed(taskOf(entry as Record<string, unknown>))
  const first = formatIssue(decoded.failure.issue).issues[0]
  const key = first?.path?.[0]
  const field = key === undefined ? undefined : String(typeof key === "object" ? key.key : key)
  if (field === undefined) {
    return Result.fail(
      invalidEntry(location, index, entry, undefined, `expected an object, got ${describeJson(entry)}`),
    )
  }
  const value = isPlainObject(entry) ? entry[field] : undefined
  let problem = first?.message ?? "invalid"
  if (problem === "Missing key") problem = "missing"
  // The cron module's message already quotes the expression.
  else if (field !== "cron" && !problem.includes(", got ")) problem += `, got ${describeJson(value)}`
  return Result.fail(invalidEntry(location, index, entry, field, problem))
}

/**
 * Reads the text of a tasks file (`null` when the file does not exist: no tasks). A file that is not a
 * JSON object with a `tasks` array fails with `CorruptFile` (`AGH_TASKS_CORRUPT`) naming the file, and
 * nothing may be written over it. An empty file counts as corrupt too: it is what a reader sees in the
 * middle of a non-atomic rewrite, and must not read as "every task deleted". A missing `tasks` key is an
 * empty list. Entries that fail validation — or repeat an earlier entry's id — are reported in `invalid`,
 * kept in the document, and left out of `tasks`.
 *
 * @example
 * const view = parseTaskFile(readFileSync(path, "utf8"), path)
 * if (Result.isFailure(view)) console.error(view.failure.code, view.failure.message)
 */
export function parseTaskFile(
  text: string | null,
  location: string,
): Result.Result<TaskFileView, TaskStoreError> {
  if (text === null) return Result.succeed(EMPTY_TASK_FILE_VIEW)
  if (text.trim() === "") return Result.fail(corrupt(location, "the file is empty"))
  let root: unknown
  try {
    root = JSON.parse(text)
  } catch (error) {
    return Result.fail(corrupt(location, `not valid JSON (${(error as Error).message})`, undefined, error))
  }
  if (!isPlainObject(root)) {
    return Result.fail(
      corrupt(location, `expected a JSON object { "tasks": [...] }, got ${describeJson(root)}`),
    )
  }
  const rawTasks = root.tasks
  if (rawTasks !== undefined && !Array.isArray(rawTasks)) {
    return Result.fail(
      corrupt(location, `field "tasks": expected an array, got ${describeJson(rawTasks)}`, "tasks"),
    )
  }
  const entries: ReadonlyArray<unknown> = rawTasks ?? []
  const tasks: ScheduledTask[] = []
  const invalid: TaskStoreError[] = []
  const seen = new Map<string, number>()
  entries.forEach((entry, index) => {
    const checked = validateTaskEntry(entry, index, location)
    if (Result.isFailure(checked)) {
      invalid.push(checked.failure)
      return
    }
    const task = checked.success
    const earlier = seen.get(task.id)
    if (earlier !== undefined) {
      invalid.push(invalidEntry(location, index, entry, "id", `duplicates the id of task [${earlier}]`))
      return
    }
    seen.set(task.id, index)
    tasks.push(task)
  })
  return Result.succeed({ tasks, invalid, document: { root, entries } })
}

/** The file's text for a document: two-space JSON and a final newline, top-level keys in their order. */
export function serializeTaskDocument(document: TaskFileDocument): string {
  return `${JSON.stringify({ ...document.root, tasks: document.entries }, null, 2)}\n`
}

/** The entry written for a new task: file fields only, in a stable order (never `durable`, `agentId`). */
export function taskFileEntry(task: ScheduledTask): Record<string, unknown> {
  return fileFields(task)
}

/** `document` with `task` appended. */
export function withTaskAdded(document: TaskFileDocument, task: ScheduledTask): TaskFileDocument {
  return { root: document.root, entries: [...document.entries, taskFileEntry(task)] }
}

/**
 * `document` without any entry whose `id` is `id` — valid or not, so a broken entry can be removed by its
 * id too — and how many were removed.
 */
export function withTaskRemoved(
  document: TaskFileDocument,
  id: string,
): { readonly document: TaskFileDocument; readonly removed: number } {
  const entries = document.entries.filter((entry) => !(isPlainObject(entry) && entry.id === id))
  return { document: { root: document.root, entries }, removed: document.entries.length - entries.length }
}

/**
 * `document` with `lastFiredAt` of the scheduled task `id` (the first valid entry with that id) set to
 * `firedAt` — unless the file already holds a later time, written by another scheduler: time never goes
 * back. Every other key of the entry is kept. `task` is undefined when no valid entry has the id.
 */
export function withTaskFired(
  document: TaskFileDocument,
  id: string,
  firedAt: number,
  location: string,
): { readonly document: TaskFileDocument; readonly task?: ScheduledTask } {
  const index = document.entries.findIndex(
    (entry, i) =>
      isPlainObject(entry) && entry.id === id && Result.isSuccess(validateTaskEntry(entry, i, location)),
  )
  if (index < 0) return { document }
  const entry = document.entries[index] as Record<string, unknown>
  const previous = typeof entry.lastFiredAt === "number" ? entry.lastFiredAt : undefined
  const updated = { ...entry, lastFiredAt: previous === undefined ? firedAt : Math.max(previous, firedAt) }
  const entries = document.entries.map((e, i) => (i === index ? updated : e))
  return { document: { root: document.root, entries }, task: taskOf(updated) }
}
