import type { TimelineEntry } from "./replay.js"

/**
 * A state value as people read it: `running.idle` for `{ running: "idle" }`, `{a.x, b.y}` for parallel
 * regions, `?` when there is none.
 */
export function formatStateValue(value: unknown): string {
  if (value === null || value === undefined) return "?"
  if (typeof value === "string") return value
  if (typeof value !== "object" || Array.isArray(value)) return JSON.stringify(value)
  const parts = Object.entries(value as Readonly<Record<string, unknown>>).map(([key, child]) =>
    child === undefined || (typeof child === "object" && child !== null && Object.keys(child).length === 0)
      ? key
      : `${key}.${formatStateValue(child)}`,
  )
  return parts.length === 1 ? (parts[0] as string) : `{${parts.join(", ")}}`
}

/**
 * One line of `agenthost replay`: ISO time, seq, actor, event type, `before → after`, and a marker when the
 * record is not confirmed.
 */
export function formatTimelineLine(entry: TimelineEntry): string {
  const time = new Date(entry.at).toISOString()
  const actor = entry.actor ?? "-"
  let states: string
  if (entry.kind === "note") states = entry.message ?? ""
  else if (entry.kind === "started") states = `→ ${formatStateValue(entry.after)}`
  else states = `${formatStateValue(entry.before)} → ${formatStateValue(entry.after)}`
  const marker =
    entry.status === "ok" || entry.status === "note"
      ? ""
      : `  [${entry.status}${entry.issue === undefined ? "" : `: ${entry.issue.code}`}]`
  return `${time}  #${entry.seq}  ${actor}  ${entry.type}  ${states}${marker}`
}

/** The JSON object `agenthost replay --json` prints for an entry (one per line). */
export function timelineEntryJson(entry: TimelineEntry): Record<string, unknown> {
  return {
    seq: entry.seq,
    at: entry.at,
    time: new Date(entry.at).toISOString(),
    actor: entry.actor,
    kind: entry.kind,
    type: entry.type,
    machine: entry.machine,
    before: entry.before ?? null,
    after: entry.after ?? null,
    digest: entry.digest,
    status: entry.status,
    ...(entry.message === undefined ? {} : { message: entry.message }),
    ...(entry.issue === undefined
      ? {}
      : {
          issue: {
            code: entry.issue.code,
            message: entry.issue.message,
            ...(entry.issue.expected === undefined ? {} : { expected: entry.issue.expected }),
            ...(entry.issue.got === undefined ? {} : { got: entry.issue.got }),
          },
        }),
  }
}
