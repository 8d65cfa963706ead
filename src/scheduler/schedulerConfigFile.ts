import { mkdirSync } from "node:fs"
import { dirname, isAbsolute, join } from "node:path"
import * as Result from "effect/Result"
import { atomicWriteFile } from "../cron/atomicWriteFile.js"
import { type CronJitterConfig, validateCronJitterConfig } from "../cron/jitterConfig.js"
import { readTextIfExists } from "../cron/readTextIfExists.js"
import { SchedulerError } from "./schedulerError.js"
import { canonicalProjectDir } from "./schedulerStream.js"

/** `<home>/cron.json`: the scheduler's settings, written by a person, re-read while the host runs. */
export const SCHEDULER_CONFIG_FILE = "cron.json"

/** `<home>/cron/projects.json`: projects the host was asked to schedule (`POST /cron`, `cron add`). */
export const PROJECT_REGISTRY_FILE = join("cron", "projects.json")

/** The scheduler's settings after validation. */
export interface SchedulerConfig {
  /** Projects to schedule, absolute. */
  readonly projects: ReadonlyArray<string>
  /** The jitter knobs the file sets (the rest keep their defaults). */
  readonly jitter: Partial<CronJitterConfig>
}

export const EMPTY_SCHEDULER_CONFIG: SchedulerConfig = Object.freeze({ projects: [], jitter: {} })

const KNOWN_KEYS = new Set(["projects", "jitter"])

function invalid(path: string, message: string, field?: string, cause?: unknown): SchedulerError {
  return new SchedulerError({
    reason: "ConfigInvalid",
    message: `${path}: ${message}; the configuration in force stays`,
    ...(field === undefined ? {} : { field }),
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * Validates the text of `<home>/cron.json` (`null`: no file, the defaults): a JSON object with optional
 * `projects` (absolute paths) and `jitter` (knobs of SPEC §7, checked with `validateCronJitterConfig`:
 * fractions 0..1, caps 0..30 min, mod 1..60, floor ≤ max, no unknown keys). Anything else is refused as a
 * whole with `AGH_CRON_CONFIG_INVALID` naming the file and the field.
 *
 * @example
 * // <home>/cron.json
 * { "projects": ["/srv/app"], "jitter": { "recurringFrac": 0.2, "recurringMaxAgeMs": 1209600000 } }
 */
export function parseSchedulerConfig(
  text: string | null,
  path: string,
  base: CronJitterConfig,
): Result.Result<SchedulerConfig, SchedulerError> {
  if (text === null) return Result.succeed(EMPTY_SCHEDULER_CONFIG)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    return Result.fail(invalid(path, `not valid JSON (${(cause as Error).message})`, undefined, cause))
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Result.fail(invalid(path, `expected a JSON object { "projects"?: [...], "jitter"?: {...} }`))
  }
  const root = value as Record<string, unknown>
  for (const key of Object.keys(root)) {
    if (!KNOWN_KEYS.has(key))
      return Result.fail(invalid(path, `field ${JSON.stringify(key)}: unknown field`, key))
  }
  const projects = root.projects ?? []
  if (!Array.isArray(projects)) {
    return Result.fail(invalid(path, `field "projects": expected an array of absolute paths`, "projects"))
  }
  for (const [i, project] of projects.entries()) {
    if (typeof project !== "string" || !isAbsolute(project)) {
      return Result.fail(
        invalid(
          path,
          `field "projects[${i}]": expected an absolute path, got ${JSON.stringify(project)}`,
          "projects",
        ),
      )
    }
  }
  const jitter = root.jitter ?? {}
  if (typeof jitter !== "object" || jitter === null || Array.isArray(jitter)) {
    return Result.fail(invalid(path, `field "jitter": expected an object of jitter knobs`, "jitter"))
  }
  const checked = validateCronJitterConfig(jitter, base)
  if (Result.isFailure(checked)) {
    return Result.fail(invalid(path, `field "jitter": ${checked.failure.message}`, "jitter", checked.failure))
  }
  return Result.succeed({ projects: projects as string[], jitter: jitter as Partial<CronJitterConfig> })
}

/** Reads and validates `path` (see {@link parseSchedulerConfig}); an unreadable file is refused too. */
export function loadSchedulerConfig(
  path: string,
  base: CronJitterConfig,
): Result.Result<SchedulerConfig, SchedulerError> {
  let text: string | null
  try {
    text = readTextIfExists(path)
  } catch (cause) {
    return Result.fail(invalid(path, `cannot read it (${(cause as Error).message})`, undefined, cause))
  }
  return parseSchedulerConfig(text, path, base)
}

/**
 * The projects in the registry `<home>/cron/projects.json` (`{ "projects": [...] }`); entries that are not
 * absolute paths are ignored. A missing file is an empty registry.
 */
export function readProjectRegistry(home: string): Result.Result<ReadonlyArray<string>, SchedulerError> {
  const path = join(home, PROJECT_REGISTRY_FILE)
  let text: string | null
  try {
    text = readTextIfExists(path)
  } catch (cause) {
    return Result.fail(
      new SchedulerError({
        reason: "RegistryIo",
        message: `cannot read ${path}: ${(cause as Error).message}`,
        cause,
      }),
    )
  }
  if (text === null) return Result.succeed([])
  try {
    const value = JSON.parse(text) as { projects?: unknown }
    const list = Array.isArray(value?.projects) ? value.projects : []
    return Result.succeed(list.filter((p): p is string => typeof p === "string" && isAbsolute(p)))
  } catch (cause) {
    return Result.fail(
      new SchedulerError({
        reason: "RegistryIo",
        message: `${path} is not valid JSON (${(cause as Error).message}); remove it to start a new registry`,
        cause,
      }),
    )
  }
}

/**
 * Adds a project to `<home>/cron/projects.json` (atomically; a project already there is not added twice),
 * so a running host — which polls the registry — schedules it, and a restarted one still does. Returns the
 * canonical path. `agenthost cron add` and `POST /cron` call it.
 *
 * @example
 * registerCronProject(resolveHome(undefined, io), process.cwd())
 */
export function registerCronProject(home: string, projectDir: string): string {
  const dir = canonicalProjectDir(projectDir)
  const path = join(home, PROJECT_REGISTRY_FILE)
  // Compare-and-swap against the text read: a host and `cron add` registering at once both get in.
  for (let attempt = 0; attempt < 20; attempt++) {
    let before: string | null
    try {
      before = readTextIfExists(path)
    } catch (cause) {
      throw new SchedulerError({
        reason: "RegistryIo",
        message: `cannot read ${path}: ${(cause as Error).message}`,
        cause,
      })
    }
    const current = readProjectRegistry(home)
    if (Result.isFailure(current)) throw current.failure
    if (current.success.includes(dir)) return dir
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
      const text = `${JSON.stringify({ projects: [...current.success, dir] }, null, 2)}\n`
      if (atomicWriteFile(path, text, () => readTextIfExists(path) === before)) return dir
    } catch (cause) {
      throw new SchedulerError({
        reason: "RegistryIo",
        message: `cannot write ${path}: ${(cause as Error).message}`,
        cause,
      })
    }
  }
  throw new SchedulerError({
    reason: "RegistryIo",
    message: `${path} kept changing under 20 attempts to add ${dir}`,
  })
}
