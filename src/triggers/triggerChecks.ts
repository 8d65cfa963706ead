import { isAbsolute } from "node:path"
import * as Result from "effect/Result"
import { parseCronExpression } from "../cron/cronExpression.js"
import { checkTimeZone } from "../cron/zoneOffset.js"
import { TriggerError } from "./triggerError.js"
import {
  MAX_TRIGGER_NAME_LENGTH,
  type NewTrigger,
  type TriggerChanges,
  type TriggerProject,
  type TriggerSchedule,
} from "./triggerTypes.js"

/*
 * Field checks shared by the HTTP schemas (which report them as `AGH_BAD_REQUEST` naming the field) and the
 * store (which embedders call directly: `AGH_TRIGGER_INVALID`). Each returns a message, or undefined when the
 * value is fine.
 */

const CONTROL = /[\u0000-\u001f\u007f]/

/** A trigger name: not blank, at most 200 characters, one line. */
export function checkName(name: string): string | undefined {
  if (name.trim() === "") return "must not be blank"
  if (name.length > MAX_TRIGGER_NAME_LENGTH)
    return `longer than ${MAX_TRIGGER_NAME_LENGTH} characters (${name.length})`
  if (CONTROL.test(name)) return "must not contain control characters"
  return undefined
}

/** A prompt: anything but blank. */
export function checkPrompt(prompt: string): string | undefined {
  return prompt.trim() === "" ? "must not be blank" : undefined
}

/** A 5-field cron expression that parses (Vixie cron) and fires at least once. */
export function checkCron(cron: string): string | undefined {
  const parsed = parseCronExpression(cron)
  if (Result.isFailure(parsed)) return parsed.failure.message
  if (!parsed.success.satisfiable) return `cron expression ${JSON.stringify(cron)} never fires`
  return undefined
}

/** An IANA time zone this runtime knows. */
export function checkZone(tz: string): string | undefined {
  const zone = checkTimeZone(tz)
  return Result.isFailure(zone) ? zone.failure.message : undefined
}

/** An absolute path; whether it exists and is allowed is the session policy's call. */
export function checkWorkDir(dir: string): string | undefined {
  if (!isAbsolute(dir)) return `${JSON.stringify(dir)} is not an absolute path`
  if (dir.includes("\u0000")) return "must not contain NUL"
  return undefined
}

/** Git would read a leading `-` as an option: a URL or ref must never be able to smuggle one in. */
export function checkRepositoryUrl(url: string): string | undefined {
  if (url.trim() === "") return "must not be blank"
  if (url.startsWith("-")) return `${JSON.stringify(url)} must not start with "-"`
  if (/\s/.test(url) || CONTROL.test(url)) return `${JSON.stringify(url)} must not contain whitespace`
  return undefined
}

/** A branch, tag or commit name git accepts and cannot read as an option. */
export function checkRef(ref: string): string | undefined {
  if (ref === "" || ref.startsWith("-") || /\s|\.\.|[~^:?*[\\]/.test(ref) || CONTROL.test(ref)) {
    return `${JSON.stringify(ref)} is not a git branch, tag or commit name`
  }
  return undefined
}

type Problem = readonly [field: string, message: string]

function projectProblems(project: TriggerProject): Problem[] {
  if ("work_dir" in project) {
    const m = checkWorkDir(project.work_dir)
    return m === undefined ? [] : [["project.work_dir", m]]
  }
  const out: Problem[] = []
  const url = checkRepositoryUrl(project.repository.url)
  if (url !== undefined) out.push(["project.repository.url", url])
  const ref = project.repository.ref
  const refProblem = ref === undefined ? undefined : checkRef(ref)
  if (refProblem !== undefined) out.push(["project.repository.ref", refProblem])
  return out
}

function scheduleProblems(schedule: TriggerSchedule | null | undefined): Problem[] {
  if (schedule == null) return []
  const out: Problem[] = []
  const cron = checkCron(schedule.cron)
  if (cron !== undefined) out.push(["schedule.cron", cron])
  const tz = schedule.tz === undefined ? undefined : checkZone(schedule.tz)
  if (tz !== undefined) out.push(["schedule.tz", tz])
  return out
}

function changesProblems(changes: TriggerChanges): Problem[] {
  const out: Problem[] = []
  const add = (field: string, message: string | undefined) => {
    if (message !== undefined) out.push([field, message])
  }
  if (changes.name !== undefined) add("name", checkName(changes.name))
  if (changes.prompt !== undefined) add("prompt", checkPrompt(changes.prompt))
  if (changes.agent !== undefined) add("agent", changes.agent.trim() === "" ? "must not be blank" : undefined)
  if (changes.project !== undefined) out.push(...projectProblems(changes.project))
  out.push(...scheduleProblems(changes.schedule))
  return out
}

function invalid(problems: Problem[], triggerId?: string): TriggerError | undefined {
  const [first] = problems
  if (first === undefined) return undefined
  return new TriggerError({
    reason: "Invalid",
    field: first[0],
    message: problems.map(([field, message]) => `field "${field}": ${message}`).join("; "),
    ...(triggerId === undefined ? {} : { triggerId }),
  })
}

/** Every problem of a new trigger, as one `AGH_TRIGGER_INVALID` error; undefined when it is valid. */
export function validateNewTrigger(input: NewTrigger): TriggerError | undefined {
  // Embedders may call from plain JavaScript: the required fields are checked, not assumed.
  const missing: Problem[] = (["name", "prompt", "agent"] as const)
    .filter((field) => typeof input[field] !== "string")
    .map((field) => [field, "missing"] as const)
  if (typeof input.project !== "object" || input.project === null) missing.push(["project", "missing"])
  return invalid(missing.length > 0 ? missing : changesProblems(input))
}

/** Every problem of an update; undefined when it is valid. */
export function validateTriggerChanges(id: string, changes: TriggerChanges): TriggerError | undefined {
  return invalid(changesProblems(changes), id)
}
