import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import type { Clock, ClockShape, TimerHandle } from "../adapters/clock.js"
import { type IdsShape, liveIds } from "../adapters/ids.js"
import type { CronError } from "../cron/cronError.js"
import {
  type CronJitterConfig,
  DEFAULT_CRON_JITTER_CONFIG,
  validateCronJitterConfig,
} from "../cron/jitterConfig.js"
import { SessionTaskStore } from "../cron/sessionTaskStore.js"
import type { TaskFileWatchOptions } from "../cron/taskFileWatcher.js"
import { hostTimeZone } from "../cron/zoneOffset.js"
import { isFinalStatus } from "../effects/sessionHandle.js"
import { messageOf } from "../errors/messageOf.js"
import type { Durability, EventLog } from "../eventlog/eventLog.js"
import type { EventLogError } from "../eventlog/eventLogError.js"
import { fileEventLogLayer, logFilePath } from "../eventlog/fileEventLog.js"
import type { ServerConfig } from "../server/config.js"
import type { HomeLayout } from "../server/home.js"
import type { SessionManager } from "../server/sessionManager.js"
import { makeSessionGate } from "../server/sessionPolicy.js"
import type { TriggerStore } from "../triggers/triggerStore.js"
import { type HeapClock, makeHeapClock } from "./heapClock.js"
import {
  type FirePrompt,
  type ProjectScheduler,
  type ProjectSchedulerOptions,
  startProjectScheduler,
} from "./projectScheduler.js"
import {
  EMPTY_SCHEDULER_CONFIG,
  loadSchedulerConfig,
  PROJECT_REGISTRY_FILE,
  readProjectRegistry,
  registerCronProject,
  SCHEDULER_CONFIG_FILE,
  type SchedulerConfig,
} from "./schedulerConfigFile.js"
import { SchedulerError } from "./schedulerError.js"
import { type HistoryOptions, readSchedulerHistoryFile, type SchedulerHistory } from "./schedulerHistory.js"
import { canonicalProjectDir, schedulerStreamName } from "./schedulerStream.js"
import { startTriggerScheduling, TRIGGER_SCHEDULER_STREAM, type TriggerScheduling } from "./triggerTasks.js"

/** How often `<home>/cron.json` and the project registry are re-read (a cheap stat and read). */
export const DEFAULT_CONFIG_POLL_MS = 2_000

/** Options of {@link createSchedulerService}. */
export interface SchedulerServiceOptions {
  readonly home: HomeLayout
  /** The host's config: `work_roots` (fires go through the session policy) and `default_agent`. */
  readonly config: ServerConfig
  readonly clock: ClockShape
  readonly sessionManager: SessionManager
  readonly ids?: IdsShape
  /** Projects to schedule besides those of `<home>/cron.json` and the registry (for embedders). */
  readonly projects?: ReadonlyArray<string>
  /** Jitter knobs over the defaults; `<home>/cron.json`'s `jitter` goes over these. */
  readonly jitter?: Partial<CronJitterConfig>
  /** Default `fileEventLogLayer({ dir: <home>/logs })`. */
  readonly eventLog?: Layer.Layer<EventLog, never, Clock>
  readonly durability?: Durability
  readonly lock?: ProjectSchedulerOptions["lock"]
  readonly zone?: string
  readonly watch?: TaskFileWatchOptions
  /** 0 turns the config and registry poll off (call `reloadConfig`, e.g. on SIGHUP). */
  readonly configPollMs?: number
  /** Diagnostics, one line each (an invalid config on reload, say). */
  readonly log?: (line: string) => void
}

/** The host's scheduler: one {@link ProjectScheduler} per project, sharing one timer and one jitter config. */
export interface SchedulerService {
  /** The session id this host takes scheduler locks with. */
  readonly schedulerId: string
  /** `<home>/cron.json`. */
  readonly configPath: string
  /** The zone cron expressions are read in. */
  readonly zone: string
  readonly projects: () => ReadonlyArray<ProjectScheduler>
  /** The scheduler of a project, if the host schedules it. */
  readonly project: (dir: string) => ProjectScheduler | undefined
  /** Schedules a project from now on, and records it in the registry so a restart still does. */
  readonly addProject: (dir: string) => Promise<ProjectScheduler>
  readonly jitter: () => CronJitterConfig
  /**
   * Adjusts jitter knobs of every project at run time (`POST /cron/config`): validated as a whole, refused
   * with `AGH_CRON_CONFIG_INVALID` (old config kept). Holds until the next reload of a changed `cron.json`.
   */
  readonly setJitterConfig: (input: unknown) => Result.Result<CronJitterConfig, CronError>
  /** Re-reads `<home>/cron.json` and the registry now; an invalid config is refused, the old one stays. */
  readonly reloadConfig: () => Promise<Result.Result<SchedulerConfig, SchedulerError>>
  /** The history of a project's scheduler stream (empty when there is none yet). */
  readonly history: (dir: string, options?: HistoryOptions) => Promise<SchedulerHistory>
  /**
   * Schedules the host's triggers (docs/triggers.md) on this scheduler's timer and jitter, on the
   * `sched-triggers` stream. One store per service; a second call returns the first scheduling.
   */
  readonly scheduleTriggers: (store: TriggerStore) => Promise<TriggerScheduling>
  /** The scheduled triggers, once {@link scheduleTriggers} ran. */
  readonly triggers: () => TriggerScheduling | undefined
  /** The history of the triggers' scheduler stream (empty when there is none yet). */
  readonly triggerHistory: (options?: HistoryOptions) => Promise<SchedulerHistory>
  /** Session-only tasks of this host's sessions (SPEC §7): add with `sessionTasks.forSession(id).add(...)`. */
  readonly sessionTasks: SessionTaskStore
  /** Schedules the session-only tasks of a session (fired into it), on the stream of its work directory. */
  readonly trackSession: (sessionId: string, workDir: string) => Promise<void>
  /** Drops a session's tasks and stops scheduling them (call when the session ends). */
  readonly endSession: (sessionId: string) => Promise<void>
  readonly settle: () => Promise<void>
  readonly close: () => Promise<void>
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return null
  }
}

/**
 * Builds the host's scheduler (docs/scheduler.md). It schedules the projects listed in `<home>/cron.json`,
 * in the registry `<home>/cron/projects.json` (filled by `POST /cron` and `agenthost cron add`) and in
 * `options.projects`; both files are re-read every `configPollMs`. Each project's stream is
 * `<home>/logs/sched-<hash>.aglog`. A durable task's fire creates a session in the project through the
 * host's session policy (work roots, session cap); a session-only task's fire goes into its session.
 *
 * @example
 * const scheduler = await createSchedulerService({ home, config, clock: liveClock, sessionManager })
 * const server = makeServer({ config, home, sessionManager, routes: [cronRoutes(scheduler)] })
 * // on shutdown:
 * await scheduler.close()
 */
export async function createSchedulerService(options: SchedulerServiceOptions): Promise<SchedulerService> {
  const { clock, home, sessionManager } = options
  const ids = options.ids ?? liveIds
  const schedulerId = ids.sessionId()
  const zone = options.zone ?? hostTimeZone()
  const configPath = join(home.home, SCHEDULER_CONFIG_FILE)
  const registryPath = join(home.home, PROJECT_REGISTRY_FILE)
  const eventLog = options.eventLog ?? fileEventLogLayer({ dir: home.logsDir })
  const timers: HeapClock = makeHeapClock(clock, {
    onError: (error) => options.log?.(`scheduler timer failed: ${messageOf(error)}`),
  })
  const gate = makeSessionGate(sessionManager, options.config)
  const sessionTasks = new SessionTaskStore({ clock, ids })
  const codeBase = (() => {
    const checked = validateCronJitterConfig(options.jitter ?? {}, DEFAULT_CRON_JITTER_CONFIG)
    if (Result.isFailure(checked)) throw checked.failure
    return checked.success
  })()

  const fire: FirePrompt = async (request) => {
    if (!request.durable) {
      const handle = request.sessionId === undefined ? undefined : sessionManager.get(request.sessionId)
      if (handle === undefined || isFinalStatus(handle.info().status)) {
        throw new SchedulerError({
          reason: "SessionGone",
          message: `session ${request.sessionId ?? "?"} of task ${request.taskId} has ended: its prompt was not delivered`,
        })
      }
      await handle.sendUserMessage({
        type: "user",
        message: { role: "user", content: request.prompt },
        parent_tool_use_id: null,
        session_id: handle.id,
      })
      return handle.id
    }
    const flat = request.prompt.replace(/\s+/g, " ").trim()
    const handle = await gate.create({
      cwd: request.projectDir,
      prompt: request.prompt,
      title: `cron ${request.taskId}: ${flat.length > 60 ? `${flat.slice(0, 59)}…` : flat}`,
    })
    return handle.id
  }

  let triggerStarting: Promise<TriggerScheduling> | undefined
  let triggerScheduling: TriggerScheduling | undefined
  const schedulers = new Map<string, Promise<ProjectScheduler>>()
  /** The started ones, for synchronous lookups. */
  const resolved = new Map<string, ProjectScheduler>()
  const sessionsTracked = new Map<string, { readonly dir: string; readonly untrack: () => Promise<void> }>()
  let fileConfig: SchedulerConfig = EMPTY_SCHEDULER_CONFIG
  let jitter = codeBase
  let closed = false
  let lastConfigText: string | null | undefined
  let lastRegistryText: string | null | undefined

  const ensure = (dir: string): Promise<ProjectScheduler> => {
    const key = canonicalProjectDir(dir)
    let scheduler = schedulers.get(key)
    if (scheduler === undefined) {
      scheduler = startProjectScheduler({
        projectDir: key,
        eventLog,
        clock,
        timers,
        fire,
        schedulerId,
        ids,
        jitter,
        zone,
        ...(options.durability === undefined ? {} : { durability: options.durability }),
        ...(options.lock === undefined ? {} : { lock: options.lock }),
        ...(options.watch === undefined ? {} : { watch: options.watch }),
        ...(options.log === undefined ? {} : { onDiagnostic: options.log }),
      })
      schedulers.set(key, scheduler)
      scheduler.then(
        (s) => {
          if (closed) {
            void s.close()
            return
          }
          resolved.set(key, s)
          // The config may have changed while it was starting.
          if (s.jitter() !== jitter) s.setJitterConfig(jitter)
        },
        (error: unknown) => {
          schedulers.delete(key)
          options.log?.(`cannot schedule ${key}: ${messageOf(error)}`)
        },
      )
    }
    return scheduler
  }

  /** Started schedulers now; starting ones when they are up (see `ensure`). */
  const applyJitter = (next: CronJitterConfig) => {
    jitter = next
    for (const s of resolved.values()) s.setJitterConfig(next)
    triggerScheduling?.reconfigure(next)
  }

  const reloadConfig = async (): Promise<Result.Result<SchedulerConfig, SchedulerError>> => {
    lastConfigText = readOrNull(configPath)
    lastRegistryText = readOrNull(registryPath)
    const loaded = loadSchedulerConfig(configPath, codeBase)
    if (Result.isFailure(loaded)) {
      options.log?.(`${loaded.failure.code}: ${loaded.failure.message}`)
      return loaded
    }
    const registry = readProjectRegistry(home.home)
    if (Result.isFailure(registry)) options.log?.(`${registry.failure.code}: ${registry.failure.message}`)
    const previous = fileConfig
    fileConfig = loaded.success
    if (JSON.stringify(previous.jitter) !== JSON.stringify(fileConfig.jitter)) {
      const next = validateCronJitterConfig(fileConfig.jitter, codeBase)
      if (Result.isSuccess(next)) applyJitter(next.success)
    }
    const wanted = [
      ...(options.projects ?? []),
      ...fileConfig.projects,
      ...(Result.isSuccess(registry) ? registry.success : []),
    ]
    await Promise.all(wanted.map((dir) => ensure(dir).catch(() => undefined)))
    return loaded
  }

  const initial = await reloadConfig()
  if (Result.isFailure(initial)) throw initial.failure

  let pollTimer: TimerHandle | undefined
  const pollMs = options.configPollMs ?? DEFAULT_CONFIG_POLL_MS
  const poll = () => {
    pollTimer = undefined
    if (closed) return
    const config = readOrNull(configPath)
    const registry = readOrNull(registryPath)
    const done =
      config !== lastConfigText || registry !== lastRegistryText ? reloadConfig() : Promise.resolve()
    void done.finally(() => {
      if (!closed && pollMs > 0) pollTimer = clock.setTimeout(poll, pollMs)
    })
  }
  if (pollMs > 0) pollTimer = clock.setTimeout(poll, pollMs)

  const readHistory = async (
    stream: string,
    project: string | null,
    historyOptions: HistoryOptions | undefined,
  ): Promise<SchedulerHistory> => {
    const path = logFilePath(home.logsDir, stream)
    const read = await Effect.runPromise(Effect.result(readSchedulerHistoryFile(path, historyOptions)))
    if (Result.isSuccess(read)) return read.success
    const error: EventLogError = read.failure
    if (error.reason === "NotFound") return { stream, project, rows: [] }
    throw error
  }

  const all = async () =>
    (await Promise.all([...schedulers.values()].map((s) => s.catch(() => undefined)))).filter(
      (s): s is ProjectScheduler => s !== undefined,
    )

  return {
    schedulerId,
    configPath,
    zone,
    projects: () => [...resolved.values()],
    project: (dir) => resolved.get(canonicalProjectDir(dir)),
    addProject: async (dir) => {
      if (closed) throw new SchedulerError({ reason: "Closed", message: "the scheduler is shut down" })
      const key = registerCronProject(home.home, dir)
      lastRegistryText = readOrNull(registryPath)
      return ensure(key)
    },
    jitter: () => jitter,
    setJitterConfig: (input) => {
      const next = validateCronJitterConfig(input, jitter)
      if (Result.isSuccess(next)) applyJitter(next.success)
      return next
    },
    reloadConfig,
    history: (dir, historyOptions) =>
      readHistory(schedulerStreamName(dir), canonicalProjectDir(dir), historyOptions),
    scheduleTriggers: (store) => {
      if (closed)
        return Promise.reject(new SchedulerError({ reason: "Closed", message: "the scheduler is shut down" }))
      triggerStarting ??= startTriggerScheduling({
        store,
        eventLog,
        clock,
        timers,
        zone,
        jitter: () => jitter,
        ...(options.durability === undefined ? {} : { durability: options.durability }),
        ...(options.log === undefined ? {} : { onDiagnostic: options.log }),
      }).then((scheduling) => {
        triggerScheduling = scheduling
        return scheduling
      })
      return triggerStarting
    },
    triggers: () => triggerScheduling,
    triggerHistory: (historyOptions) => readHistory(TRIGGER_SCHEDULER_STREAM, null, historyOptions),
    sessionTasks,
    trackSession: async (sessionId, workDir) => {
      if (sessionsTracked.has(sessionId)) return
      const scheduler = await ensure(workDir)
      const untrack = scheduler.trackSession(sessionId, sessionTasks.forSession(sessionId))
      sessionsTracked.set(sessionId, { dir: scheduler.projectDir, untrack })
    },
    endSession: async (sessionId) => {
      sessionTasks.removeSession(sessionId)
      const tracked = sessionsTracked.get(sessionId)
      sessionsTracked.delete(sessionId)
      await tracked?.untrack()
    },
    settle: async () => {
      for (const s of await all()) await s.settle()
      await triggerScheduling?.settle()
    },
    close: async () => {
      if (closed) return
      closed = true
      if (pollTimer !== undefined) clock.clearTimeout(pollTimer)
      for (const s of await all()) await s.close()
      await (await triggerStarting?.catch(() => undefined))?.close()
      timers.clear()
    },
  }
}
