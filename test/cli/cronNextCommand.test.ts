import { describe, expect, it } from "vitest"
import { main } from "../../src/cli/main.js"
import { fakeIo } from "./connectIo.js"

/** Runs `agenthost <args>` in-process. */
async function run(...args: string[]) {
  const { io, stdout, stderr } = fakeIo({ cwd: "/" })
  const code = await main(args, io)
  return { code, stdout: stdout.text, stderr: stderr.text }
}

describe("agenthost cron next", () => {
  it("runs a wildcard job on both passes of a fall-back hour, from a local --from", async () => {
    const r = await run(
      "cron",
      "next",
      "@hourly",
      "--from",
      "2026-11-01T00:30",
      "--tz",
      "America/New_York",
      "--count",
      "3",
    )
    expect(r).toEqual({
      code: 0,
      stdout: "2026-11-01T01:00:00-04:00\n2026-11-01T01:00:00-05:00\n2026-11-01T02:00:00-05:00\n",
      stderr: "",
    })
  })

  it("prints five times by default", async () => {
    const r = await run("cron", "next", "0 9 * * *", "--tz", "Asia/Kolkata", "--from", "2026-01-01T00:00:00Z")
    expect(r.stdout.trim().split("\n")).toEqual([
      "2026-01-01T09:00:00+05:30",
      "2026-01-02T09:00:00+05:30",
      "2026-01-03T09:00:00+05:30",
      "2026-01-04T09:00:00+05:30",
      "2026-01-05T09:00:00+05:30",
    ])
  })

  it("applies recurring and one-shot jitter", async () => {
    const recurring = await run(
      "cron",
      "next",
      "0 * * * *",
      "--tz",
      "UTC",
      "--from",
      "2026-01-01T00:10:00Z",
      "--task-id",
      "80000000",
      "--recurring",
      "--count",
      "3",
    )
    // 0.5 * 0.1 * 1 h = 3 min late each time; each fire is the base of the next.
    expect(recurring.stdout).toBe(
      "2026-01-01T01:03:00+00:00\n2026-01-01T02:03:00+00:00\n2026-01-01T03:03:00+00:00\n",
    )
    const oneShot = await run(
      "cron",
      "next",
      "0 9 * * *",
      "--tz",
      "UTC",
      "--from",
      "2026-01-01T08:00:00Z",
      "--task-id",
      "80000000",
      "--one-shot",
      "--json",
    )
    expect(oneShot.stdout).toBe('["2026-01-01T08:59:15+00:00"]\n')
  })

  it("refuses an unknown zone and a malformed task id with AGH_CRON_INVALID", async () => {
    expect(await run("cron", "next", "* * * * *", "--tz", "Mars/Olympus_Mons")).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'agenthost cron: AGH_CRON_INVALID: unknown time zone "Mars/Olympus_Mons" (expected an IANA name such as Europe/London)\n',
    })
    const id = await run("cron", "next", "* * * * *", "--task-id", "ABCD1234", "--recurring")
    expect(id.code).toBe(2)
    expect(id.stderr).toBe(
      'agenthost cron: AGH_CRON_INVALID: task id "ABCD1234" is not 8 lowercase hex characters\n',
    )
  })

  it("reports bad flags and arguments with AGH_CLI_USAGE", async () => {
    const cases: ReadonlyArray<readonly [string[], string]> = [
      [["--task-id", "0000abcd"], "--task-id needs exactly one of --recurring and --one-shot"],
      [
        ["--task-id", "0000abcd", "--recurring", "--one-shot"],
        "--task-id needs exactly one of --recurring and --one-shot",
      ],
      [["--recurring"], "--recurring needs --task-id HEX8"],
      [["--count", "0"], '--count "0" is not a whole number from 1 to 1000'],
      [["--count", "1001"], '--count "1001" is not a whole number from 1 to 1000'],
      [
        ["--task-id", "0000abcd", "--one-shot", "--count", "2"],
        "a one-shot task fires once: --count must be 1",
      ],
      [["--from", "yesterday"], '--from "yesterday" is not an ISO-8601 date-time'],
      [["extra"], "expected one cron expression"],
      [["--bogus"], "Unknown option '--bogus'"],
    ]
    for (const [extra, message] of cases) {
      const r = await run("cron", "next", "* * * * *", ...extra)
      expect(r.code, extra.join(" ")).toBe(2)
      expect(r.stderr, extra.join(" ")).toContain(`agenthost cron: AGH_CLI_USAGE: ${message}`)
    }
  })

  it("names the subcommands when one is missing or unknown", async () => {
    // Other subcommands join `next` over time; the message lists them all.
    expect((await run("cron")).stderr).toMatch(
      /^agenthost cron: AGH_CLI_USAGE: missing subcommand \(one of: next(, [a-z]+)*\)\n$/,
    )
    expect((await run("cron", "prev")).stderr).toMatch(
      /^agenthost cron: AGH_CLI_USAGE: unknown subcommand "prev" \(one of: next(, [a-z]+)*\)\n$/,
    )
  })

  it("documents itself in --help", async () => {
    const r = await run("cron", "next", "--help")
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/\n {2}next +the next fire times of a cron expression/)
    expect(r.stdout).toContain('agenthost cron next "<expr>" [--from ISO] [--tz ZONE] [--count N]')
  })
})
