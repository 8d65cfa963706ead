import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  parseTaskFile,
  type ScheduledTask,
  serializeTaskDocument,
  type TaskFileDocument,
  taskFileEntry,
  validateTaskEntry,
  withTaskAdded,
  withTaskFired,
  withTaskRemoved,
} from "../../src/cron/taskFile.js"

const FILE = "/p/.claude/scheduled_tasks.json"
const KNOWN = new Set(["id", "cron", "prompt", "createdAt", "lastFiredAt", "recurring", "permanent", "tasks"])

/** What JSON makes of a value (-0 becomes 0, undefined keys vanish): the file can only hold that. */
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

const idArb = fc.stringMatching(/^[0-9a-f]{8}$/)
const cronArb = fc.constantFrom("* * * * *", "*/5 9-17 * * mon-fri", "0 0 1 1 *", "@daily", "30 2 * * 0,7")
const extraKeyArb = fc
  .string({ minLength: 1, maxLength: 8 })
  .filter((k) => !KNOWN.has(k) && k !== "__proto__")
/** Fields Claude Code (or a later version of either program) might add. */
const extrasArb = fc.dictionary(extraKeyArb, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })

const validEntryArb: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      id: idArb,
      cron: cronArb,
      prompt: fc.string({ minLength: 1, maxLength: 20 }).filter((p) => p.trim() !== ""),
      createdAt: fc.integer(),
      lastFiredAt: fc.integer(),
      recurring: fc.boolean(),
      permanent: fc.boolean(),
    },
    { requiredKeys: ["id", "cron", "prompt", "createdAt"] },
  )
  .chain((task) => extrasArb.map((extras) => ({ ...extras, ...task })))

/** An entry that is kept but not scheduled: not an object, or a task with one field spoilt. */
const invalidEntryArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })),
  fc
    .tuple(
      validEntryArb,
      fc.constantFrom<[string, unknown]>(
        ["id", "XYZ"],
        ["cron", "61 * * * *"],
        ["prompt", " "],
        ["createdAt", "now"],
        ["recurring", 1],
      ),
    )
    .map(([entry, [key, bad]]) => ({ ...entry, [key]: bad })),
)

const documentArb: fc.Arbitrary<TaskFileDocument> = fc
  .record({
    extras: extrasArb,
    entries: fc.array(
      fc.oneof({ weight: 3, arbitrary: validEntryArb }, { weight: 1, arbitrary: invalidEntryArb }),
      {
        maxLength: 8,
      },
    ),
  })
  .map(({ extras, entries }) => ({ root: { ...extras, tasks: entries }, entries }))

/** The top level without `tasks`: what Claude Code (or anyone) keeps beside the tasks. */
function rootWithout(root: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { tasks: _tasks, ...rest } = root
  return rest
}

function parsed(text: string) {
  const view = parseTaskFile(text, FILE)
  if (Result.isFailure(view)) throw new Error(`expected a readable file: ${view.failure.message}`)
  return view.success
}

const RUNS = 200

describe("task file properties", () => {
  it("round-trips: every entry and unknown field survives, and a re-serialization is identical", () => {
    fc.assert(
      fc.property(documentArb, (document) => {
        const text = serializeTaskDocument(document)
        const view = parsed(text)
        expect(view.document.entries).toEqual(viaJson(document.entries))
        expect(rootWithout(view.document.root)).toEqual(viaJson(rootWithout(document.root)))
        expect(serializeTaskDocument(view.document)).toBe(text)
        // Scheduled: the valid entries whose id was not seen before; everything else is reported.
        const seen = new Set<string>()
        const expected: string[] = []
        document.entries.forEach((entry, i) => {
          const checked = validateTaskEntry(viaJson(entry), i, FILE)
          if (Result.isSuccess(checked) && !seen.has(checked.success.id)) {
            seen.add(checked.success.id)
            expected.push(checked.success.id)
          }
        })
        expect(view.tasks.map((t) => t.id)).toEqual(expected)
        expect(view.tasks.length + view.invalid.length).toBe(document.entries.length)
        for (const problem of view.invalid) {
          expect(problem.code).toBe("AGH_TASKS_CORRUPT")
          expect(problem.message.startsWith(`${FILE}: task [${problem.index}]`)).toBe(true)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it("an edit changes only what it is about: other entries and the top level stay as they were", () => {
    const editArb = fc.oneof(
      fc.record({ op: fc.constant("add" as const), entry: validEntryArb }),
      fc.record({ op: fc.constant("remove" as const), pick: fc.nat(), stray: idArb }),
      fc.record({ op: fc.constant("fire" as const), pick: fc.nat(), at: fc.integer() }),
    )
    fc.assert(
      fc.property(documentArb, editArb, (document, edit) => {
        const before = parsed(serializeTaskDocument(document))
        const entries = before.document.entries as ReadonlyArray<Record<string, unknown> | unknown>
        const idAt = (pick: number) => {
          const entry = entries.length === 0 ? undefined : entries[pick % entries.length]
          return typeof entry === "object" && entry !== null && "id" in entry ? String(entry.id) : undefined
        }
        let after: TaskFileDocument
        let expectedEntries: unknown[]
        if (edit.op === "add") {
          const task = validateTaskEntry(edit.entry, 0, FILE)
          if (Result.isFailure(task)) throw task.failure
          after = withTaskAdded(before.document, task.success)
          expectedEntries = [...entries, taskFileEntry(task.success)]
        } else if (edit.op === "remove") {
          const id = idAt(edit.pick) ?? edit.stray
          const removed = withTaskRemoved(before.document, id)
          after = removed.document
          expectedEntries = entries.filter(
            (e) => !(typeof e === "object" && e !== null && (e as { id?: unknown }).id === id),
          )
          expect(removed.removed).toBe(entries.length - expectedEntries.length)
        } else {
          const id = idAt(edit.pick) ?? "ffffffff"
          const fired = withTaskFired(before.document, id, edit.at, FILE)
          after = fired.document
          const target = before.tasks.find((t) => t.id === id)
          expect(fired.task === undefined).toBe(target === undefined)
          let done = false
          expectedEntries = entries.map((e) => {
            const entry = e as Record<string, unknown>
            if (done || target === undefined || typeof e !== "object" || e === null || entry.id !== id)
              return e
            if (Result.isFailure(validateTaskEntry(e, 0, FILE))) return e
            done = true
            const previous = (e as ScheduledTask).lastFiredAt
            return { ...entry, lastFiredAt: previous === undefined ? edit.at : Math.max(previous, edit.at) }
          })
        }
        const reread = parsed(serializeTaskDocument(after))
        expect(reread.document.entries).toEqual(viaJson(expectedEntries))
        expect(rootWithout(reread.document.root)).toEqual(viaJson(rootWithout(document.root)))
      }),
      { numRuns: RUNS },
    )
  })

  it("any text either reads as tasks or is refused as a whole with AGH_TASKS_CORRUPT naming the file", () => {
    const textArb = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.jsonValue().map((v) => JSON.stringify({ tasks: v })),
      documentArb
        .map(serializeTaskDocument)
        .chain((t) => fc.nat({ max: t.length }).map((n) => t.slice(0, n))),
    )
    fc.assert(
      fc.property(textArb, (text) => {
        const view = parseTaskFile(text, FILE)
        if (Result.isSuccess(view)) {
          const value = JSON.parse(text)
          expect(typeof value === "object" && value !== null && !Array.isArray(value)).toBe(true)
          expect(value.tasks === undefined || Array.isArray(value.tasks)).toBe(true)
        } else {
          expect(view.failure.code).toBe("AGH_TASKS_CORRUPT")
          expect(view.failure.reason).toBe("CorruptFile")
          expect(view.failure.message.startsWith(`${FILE}: `)).toBe(true)
        }
      }),
      { numRuns: RUNS * 2 },
    )
  })
})
