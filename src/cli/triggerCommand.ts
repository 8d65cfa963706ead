import { resolve } from "node:path"
import { isRecord } from "../client/clientMessages.js"
import { TriggerClient, type TriggerJson, type TriggerRunJson } from "../triggers/triggerClient.js"
import { type CliCommand, type CliIo, failUsage } from "./cliCommand.js"
import { CLIENT_FLAGS, resolveClientFlags, withClientErrorCodes } from "./clientFlags.js"
import { parseCommandArgs } from "./commandArgs.js"
import { alignColumns } from "./textTable.js"

const HELP = `Usage: agenthost trigger list [--json]
       agenthost trigger get ID [--json]
       agenthost trigger create --name N --prompt P (--cwd DIR | --repo URL [--ref REF])
                                [--agent A] [--cron EXPR [--tz ZONE]] [--disabled] [--json]
       agenthost trigger update ID [--name N] [--prompt P] [--cwd DIR | --repo URL [--ref REF]] [--agent A]
                                [--cron EXPR [--tz ZONE] | --no-cron] [--enable | --disable] [--json]
       agenthost trigger run ID [--force] [--json]
       agenthost trigger delete ID [--json]
       (each also takes [--url U] [--token-file F] [--home DIR])

Remote triggers on a host (docs/triggers.md): saved prompts that run in a project with an agent, on demand
and, with --cron, on a schedule (with the jitter of scheduled tasks). "run" starts a session now and prints
how to attach to it.

Options:
  --name N         the trigger's name
  --prompt P       the first user message of each run
  --cwd DIR        run in this directory on the host (inside one of its work roots)
  --repo URL       run in a clone of this repository (hosts that clone for triggers only), at --ref
  --agent A        a configured agent of the host (default: its default_agent)
  --cron EXPR      5-field cron schedule, in --tz ZONE or the host's zone; --no-cron removes it
  --disabled       create it paused; --disable pauses, --enable resumes
  --force          run a paused trigger anyway
  --json           print the host's JSON instead of text
  --url U          the host (default: host/port from <home>/config.json, else http://127.0.0.1:7420)
  --token-file F   file holding the host's token (default <home>/token); the token is never printed
  --home DIR       agenthost home (default $AGENTHOST_HOME or ~/.agenthost)
`

const OPTIONS = {
  json: { type: "boolean" },
  ...CLIENT_FLAGS,
  name: { type: "string" },
  prompt: { type: "string" },
  cwd: { type: "string" },
  repo: { type: "string" },
  ref: { type: "string" },
  agent: { type: "string" },
  cron: { type: "string" },
  tz: { type: "string" },
  "no-cron": { type: "boolean" },
  disabled: { type: "boolean" },
  enable: { type: "boolean" },
  disable: { type: "boolean" },
  force: { type: "boolean" },
} as const

type Flags = Partial<Record<keyof typeof OPTIONS, string | boolean>>

const COMMON = ["json", "url", "token-file", "home"]
const DEFINITION = ["name", "prompt", "cwd", "repo", "ref", "agent", "cron", "tz"]
const ALLOWED: Readonly<Record<string, ReadonlyArray<string>>> = {
  list: COMMON,
  get: COMMON,
  create: [...COMMON, ...DEFINITION, "disabled"],
  update: [...COMMON, ...DEFINITION, "no-cron", "enable", "disable"],
  run: [...COMMON, "force"],
  delete: COMMON,
}
const NEEDS_ID = new Set(["get", "update", "run", "delete"])

const str = (flags: Flags, name: keyof typeof OPTIONS) =>
  typeof flags[name] === "string" ? (flags[name] as string) : undefined

/** The project and schedule flags as a body fragment; both for create and update. */
function definitionBody(flags: Flags, io: CliIo): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  const cwd = str(flags, "cwd")
  const repo = str(flags, "repo")
  const ref = str(flags, "ref")
  if (cwd !== undefined && repo !== undefined) failUsage("give either --cwd or --repo, not both")
  if (ref !== undefined && repo === undefined) failUsage("--ref needs --repo")
  if (cwd !== undefined) body.project = { work_dir: resolve(io.cwd, cwd) }
  if (repo !== undefined) body.project = { repository: { url: repo, ...(ref === undefined ? {} : { ref }) } }
  for (const key of ["name", "prompt", "agent"] as const) {
    const value = str(flags, key)
    if (value !== undefined) body[key] = value
  }
  const cron = str(flags, "cron")
  const tz = str(flags, "tz")
  if (tz !== undefined && cron === undefined) failUsage("--tz needs --cron")
  if (cron !== undefined && flags["no-cron"] === true) failUsage("give either --cron or --no-cron, not both")
  if (cron !== undefined) body.schedule = { cron, ...(tz === undefined ? {} : { tz }) }
  if (flags["no-cron"] === true) body.schedule = null
  return body
}

function createBody(flags: Flags, io: CliIo): Record<string, unknown> {
  const body = definitionBody(flags, io)
  const missing = ["name", "prompt"].filter((k) => body[k] === undefined)
  if (body.project === undefined) missing.push("cwd or --repo")
  if (missing.length > 0) failUsage(`create needs ${missing.map((m) => `--${m}`).join(", ")}`)
  if (flags.disabled === true) body.enabled = false
  return body
}

function updateBody(flags: Flags, io: CliIo): Record<string, unknown> {
  const body = definitionBody(flags, io)
  if (flags.enable === true && flags.disable === true)
    failUsage("give either --enable or --disable, not both")
  if (flags.enable === true) body.enabled = true
  if (flags.disable === true) body.enabled = false
  if (Object.keys(body).length === 0) {
    failUsage(
      "update needs at least one change (--name, --prompt, --cwd, --repo, --agent, --cron, --no-cron, --enable, --disable)",
    )
  }
  return body
}

/** Aligned rows, trailing blanks cut (a run's last cell may be empty). */
const tableLines = (rows: ReadonlyArray<ReadonlyArray<string>>) => alignColumns(rows).map((l) => l.trimEnd())

function scheduleText(t: TriggerJson): string {
  const s = t.schedule
  if (!isRecord(s) || typeof s.cron !== "string") return "manual"
  return typeof s.tz === "string" ? `${s.cron} (${s.tz})` : s.cron
}

function projectText(t: TriggerJson): string {
  const p = t.project
  if (isRecord(p) && typeof p.work_dir === "string") return p.work_dir
  if (isRecord(p) && isRecord(p.repository) && typeof p.repository.url === "string") {
    const ref = typeof p.repository.ref === "string" ? `@${p.repository.ref}` : ""
    return `repository ${p.repository.url}${ref}`
  }
  return JSON.stringify(p)
}

const runsOf = (t: TriggerJson) => (Array.isArray(t.history) ? t.history.filter(isRecord) : [])
const text = (value: unknown, fallback = "-") =>
  typeof value === "string" && value !== "" ? value : fallback

/** `trigger list`: one row per trigger. */
export function renderTriggerTable(triggers: ReadonlyArray<TriggerJson>): string {
  if (triggers.length === 0) return "no triggers\n"
  const lines = tableLines([
    ["ID", "NAME", "STATE", "SCHEDULE", "NEXT RUN", "LAST RUN"],
    ...triggers.map((t) => {
      const last = runsOf(t).at(-1)
      return [
        t.id,
        t.name,
        t.enabled ? "enabled" : "paused",
        scheduleText(t),
        text(t.next_run_at),
        last === undefined ? "-" : `${text(last.status)} ${text(last.started_at)}`,
      ]
    }),
  ])
  return `${lines.join("\n")}\n`
}

/** `trigger get`: the definition, then the runs kept in its history. */
export function renderTriggerDetails(t: TriggerJson): string {
  const runs = runsOf(t)
  const lines = [
    `id:        ${t.id}`,
    `name:      ${t.name}`,
    `state:     ${t.enabled ? "enabled" : "paused"}`,
    `agent:     ${text(t.agent)}`,
    `project:   ${projectText(t)}`,
    `schedule:  ${scheduleText(t) === "manual" ? "none (manual runs only)" : scheduleText(t)}`,
    `next run:  ${text(t.next_run_at)}`,
    `created:   ${text(t.created_at)}`,
    `updated:   ${text(t.updated_at)}`,
    "prompt:",
    ...String(t.prompt ?? "")
      .split("\n")
      .map((l) => `  ${l}`),
    `runs:      ${typeof t.run_count === "number" ? t.run_count : runs.length}${runs.length > 0 ? ` (last ${runs.length}, oldest first)` : ""}`,
  ]
  if (runs.length > 0) {
    lines.push(
      ...tableLines(
        runs.map((r) => [
          `  ${text(r.run_id)}`,
          text(r.reason),
          text(r.status),
          text(r.started_at),
          typeof r.session_id === "string" ? `session ${r.session_id}` : "",
          isRecord(r.error) ? `${text(r.error.code)}: ${text(r.error.message)}` : text(r.detail, ""),
        ]),
      ),
    )
  }
  return `${lines.join("\n")}\n`
}

function renderRun(run: TriggerRunJson, urlFlag: string | undefined): string {
  const url = urlFlag === undefined ? "" : ` --url ${urlFlag}`
  return (
    `started run ${run.run_id} of trigger ${run.trigger_id}\n` +
    `session: ${run.session_id}\n` +
    `ws url:  ${run.ws_url}\n` +
    `attach:  agenthost connect${url} --session ${run.session_id}\n`
  )
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** `agenthost trigger list|get|create|update|run|delete` (SPEC §8). */
export const triggerCommand: CliCommand = {
  name: "trigger",
  summary: "list, create, update and run the remote triggers of a host",
  help: HELP,
  run: async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS)
    const flags = values as Flags
    const [action, id, ...extra] = positionals
    const allowed = action === undefined ? undefined : ALLOWED[action]
    if (allowed === undefined) {
      failUsage(
        `${action === undefined ? "expected" : `unknown action ${JSON.stringify(action)}; expected`} list, get ID, create, update ID, run ID or delete ID`,
      )
    }
    const act = action as string
    for (const flag of Object.keys(flags)) {
      if (!allowed.includes(flag)) failUsage(`--${flag} is not an option of trigger ${act}`)
    }
    if (NEEDS_ID.has(act) && (id === undefined || id === "")) failUsage(`${act} needs a trigger id`)
    const surplus = NEEDS_ID.has(act) ? extra : [id, ...extra].filter((x) => x !== undefined)
    if (surplus.length > 0) failUsage(`unexpected argument ${JSON.stringify(surplus[0])}`)
    // Usage errors first: nothing is read (not even the token file) for a command that cannot run.
    const body = act === "create" ? createBody(flags, io) : act === "update" ? updateBody(flags, io) : {}
    const asJson = flags.json === true
    return withClientErrorCodes(async () => {
      const target = resolveClientFlags(values, io)
      const client = new TriggerClient({ serverUrl: target.serverUrl, authToken: target.authToken })
      const triggerId = id as string
      switch (act) {
        case "list": {
          const triggers = await client.list()
          io.stdout.write(asJson ? json(triggers) : renderTriggerTable(triggers))
          return 0
        }
        case "get": {
          const trigger = await client.get(triggerId)
          io.stdout.write(asJson ? json(trigger) : renderTriggerDetails(trigger))
          return 0
        }
        case "create":
        case "update": {
          const trigger = act === "create" ? await client.create(body) : await client.update(triggerId, body)
          const verb = act === "create" ? "created" : "updated"
          io.stdout.write(
            asJson ? json(trigger) : `${verb} trigger ${trigger.id}\n${renderTriggerDetails(trigger)}`,
          )
          return 0
        }
        case "run": {
          const run = await client.run(triggerId, { force: flags.force === true })
          io.stdout.write(asJson ? json(run) : renderRun(run, values.url))
          return 0
        }
        default: {
          await client.delete(triggerId)
          io.stdout.write(asJson ? json({ id: triggerId, deleted: true }) : `deleted trigger ${triggerId}\n`)
          return 0
        }
      }
    })
  },
}
