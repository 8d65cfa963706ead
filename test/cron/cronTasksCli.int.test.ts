import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { jitteredNextCronRunMs, oneShotJitteredNextCronRunMs } from "../../src/cron/jitter.js"
import { taskFilePath } from "../../src/cron/taskFile.js"
import { formatIsoInZone } from "../../src/cron/zonedIso.js"
import { runBuiltCli } from "../support/builtCli.js"

const root = resolve(import.meta.dirname, "../..")

/** A throwaway `<home>`: `cron add` registers projects there, never in the real ~/.agenthost. */
const home = mkdtempSync(join(tmpdir(), "agh-cron-cli-home-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

/** The built CLI in `cwd`, on UTC, with the throwaway home. */
const agenthost = (cwd: string, args: ReadonlyArray<string>) =>
  runBuiltCli(args, { cwd, env: { TZ: "UTC", AGENTHOST_HOME: home } })

beforeAll(() => {
  if (!existsSync(resolve(root, "dist/cli/cronTasksCommands.js"))) {
    throw new Error("dist/ has no cron add/ls/rm: run `npm run build` before the integration tests")
  }
})

// Each run starts the whole CLI (about a second on a loaded machine): tests chain several steps each.
describe("agenthost cron add|ls|rm (built CLI)", () => {
  let project: string
  let file: string
  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), "agh-cron-cli-"))
    file = taskFilePath(project)
  })
  afterEach(() => rmSync(project, { recursive: true, force: true }))

  const writeFile = (text: string) => {
    mkdirSync(join(project, ".claude"), { recursive: true })
    writeFileSync(file, text)
  }

  it("adds a recurring task, lists it with its jittered next fire, and removes it", async () => {
    const added = await agenthost(project, ["cron", "add", "*/5 * * * *", "check the build"])
    expect([added.code, added.stderr]).toEqual([0, ""])
    const stored = JSON.parse(readFileSync(file, "utf8"))
    expect(stored.tasks).toHaveLength(1)
    const task = stored.tasks[0]
    expect(Object.keys(task)).toEqual(["id", "cron", "prompt", "createdAt", "recurring"])
    expect(task).toMatchObject({ cron: "*/5 * * * *", prompt: "check the build", recurring: true })
    expect(task.id).toMatch(/^[0-9a-f]{8}$/)
    const next = formatIsoInZone(
      jitteredNextCronRunMs(task.cron, task.createdAt, task.id, undefined, "UTC")!,
      "UTC",
    )
    expect(added.stdout).toBe(`${task.id}\nnext fire: ${next}\n`)

    const [ls, json] = await Promise.all([
      agenthost(project, ["cron", "ls"]),
      agenthost(project, ["cron", "ls", "--json"]),
    ])
    expect(ls).toEqual({
      code: 0,
      stdout:
        "ID        CRON         RECURRING  NEXT FIRE" +
        `${" ".repeat(Math.max(next.length - 9, 0))}  PROMPT\n` +
        `${task.id}  */5 * * * *  yes        ${next}  check the build\n`,
      stderr: "",
    })
    expect(JSON.parse(json.stdout)).toEqual({
      file,
      tasks: [
        {
          id: task.id,
          cron: "*/5 * * * *",
          prompt: "check the build",
          recurring: true,
          permanent: false,
          createdAt: task.createdAt,
          lastFiredAt: null,
          nextFireAt: next,
          nextFireAtMs: Date.parse(next),
          expiresAt: formatIsoInZone(task.createdAt + 7 * 86_400_000, "UTC"),
        },
      ],
      invalid: [],
    })

    expect(await agenthost(project, ["cron", "rm", task.id])).toEqual({
      code: 0,
      stdout: `removed ${task.id}\n`,
      stderr: "",
    })
    // Neither changes the file, so they can run side by side.
    const [again, empty] = await Promise.all([
      agenthost(project, ["cron", "rm", task.id]),
      agenthost(project, ["cron", "ls"]),
    ])
    expect(again).toEqual({
      code: 1,
      stdout: "",
      stderr: `agenthost cron: AGH_TASK_NOT_FOUND: no task with id "${task.id}" in ${file}\n`,
    })
    expect(empty).toEqual({ code: 0, stdout: `no scheduled tasks in ${file}\n`, stderr: "" })
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ tasks: [] })
  })

  it("adds a one-shot task with --project and --json into a file Claude Code wrote, keeping its fields", async () => {
    const claude = {
      tasks: [
        { id: "0a0b0c0d", cron: "0 9 * * *", prompt: "theirs", createdAt: 1, recurring: true, extra: [1, 2] },
      ],
      lastSeen: "kept",
    }
    writeFile(JSON.stringify(claude))
    const elsewhere = mkdtempSync(join(tmpdir(), "agh-cron-cwd-"))
    try {
      const r = await agenthost(elsewhere, [
        "cron",
        "add",
        "--project",
        project,
        "--one-shot",
        "--json",
        "30 9 * * *",
        "mine",
      ])
      expect([r.code, r.stderr]).toEqual([0, ""])
      const out = JSON.parse(r.stdout)
      const nextMs = oneShotJitteredNextCronRunMs("30 9 * * *", out.createdAt, out.id, undefined, "UTC")!
      expect(out).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}$/),
        cron: "30 9 * * *",
        prompt: "mine",
        recurring: false,
        permanent: false,
        createdAt: expect.any(Number),
        lastFiredAt: null,
        nextFireAt: formatIsoInZone(nextMs, "UTC"),
        nextFireAtMs: nextMs,
        expiresAt: null,
        file,
      })
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
        tasks: [
          claude.tasks[0],
          { id: out.id, cron: "30 9 * * *", prompt: "mine", createdAt: out.createdAt, recurring: false },
        ],
        lastSeen: "kept",
      })
    } finally {
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  it("refuses bad input without touching the file: AGH_CRON_INVALID, AGH_CLI_USAGE, AGH_TASK_INVALID", async () => {
    const before = JSON.stringify({ tasks: [] })
    writeFile(before)
    const results = await Promise.all([
      agenthost(project, ["cron", "add", "*/5 * * *", "x"]),
      agenthost(project, ["cron", "add", "--one-shot", "--permanent", "* * * * *", "x"]),
      agenthost(project, ["cron", "add", "* * * * *", "   "]),
      agenthost(project, ["cron", "ls", "--project", join(project, "missing")]),
    ])
    expect(results).toEqual([
      {
        code: 2,
        stdout: "",
        stderr:
          'agenthost cron: AGH_CRON_INVALID: invalid cron expression "*/5 * * *": expected 5 fields ' +
          "(minute hour day-of-month month day-of-week), got 4\n",
      },
      {
        code: 2,
        stdout: "",
        stderr:
          "agenthost cron: AGH_CLI_USAGE: --permanent applies to recurring tasks only: a one-shot task never expires\n",
      },
      {
        code: 2,
        stdout: "",
        stderr: `agenthost cron: AGH_TASK_INVALID: ${file}: a task's prompt must not be blank\n`,
      },
      {
        code: 2,
        stdout: "",
        stderr: `agenthost cron: AGH_CLI_USAGE: project directory ${join(project, "missing")} does not exist or is not a directory\n`,
      },
    ])
    expect(readFileSync(file, "utf8")).toBe(before)
  })

  it("reports a corrupt file and refuses to write it; warns about invalid entries but lists the rest", async () => {
    const corrupt = '{"tasks": [{"id": "0a0b0c0d",'
    writeFile(corrupt)
    const [ls, add] = await Promise.all([
      agenthost(project, ["cron", "ls"]),
      agenthost(project, ["cron", "add", "* * * * *", "x"]),
    ])
    for (const r of [ls, add]) {
      expect(r.code).toBe(1)
      expect(r.stdout).toBe("")
      expect(r.stderr).toMatch(
        new RegExp(
          `^agenthost cron: AGH_TASKS_CORRUPT: ${file}: not valid JSON \\(.+\\); refusing to write to it until it is fixed or removed\\n$`,
        ),
      )
    }
    expect(readFileSync(file, "utf8")).toBe(corrupt)

    writeFile(
      JSON.stringify({
        tasks: [
          {
            id: "0a0b0c0d",
            cron: "0 0 * * *",
            prompt: "good",
            createdAt: 0,
            recurring: true,
            permanent: true,
          },
          { id: "1a1b1c1d", cron: "0 0 * *", prompt: "bad", createdAt: 0 },
        ],
      }),
    )
    const listed = await agenthost(project, ["cron", "ls"])
    expect(listed.code).toBe(0)
    expect(listed.stderr).toBe(
      `agenthost cron ls: AGH_TASKS_CORRUPT: ${file}: task [1] (id "1a1b1c1d"): field "cron": invalid cron ` +
        'expression "0 0 * *": expected 5 fields (minute hour day-of-month month day-of-week), got 4; kept in the file, not scheduled\n',
    )
    // Permanent and created at the epoch: its next fire, in 1970, has long passed.
    const next = formatIsoInZone(jitteredNextCronRunMs("0 0 * * *", 0, "0a0b0c0d", undefined, "UTC")!, "UTC")
    expect(next.startsWith("1970-01-02T00:05:")).toBe(true)
    expect(listed.stdout.split("\n")[1]).toBe(`0a0b0c0d  0 0 * * *  permanent  ${next} (overdue)  good`)
  })

  it("keeps every task when several `cron add` processes run at once", async () => {
    const results = await Promise.all(
      [0, 1, 2].map((i) => agenthost(project, ["cron", "add", "* * * * *", `task ${i}`])),
    )
    for (const r of results) expect([r.code, r.stderr]).toEqual([0, ""])
    const ids = results.map((r) => r.stdout.split("\n")[0])
    const stored = JSON.parse(readFileSync(file, "utf8")).tasks
    expect(stored.map((t: { id: string }) => t.id).sort()).toEqual([...ids].sort())
    expect(stored.map((t: { prompt: string }) => t.prompt).sort()).toEqual(["task 0", "task 1", "task 2"])
  })
})
