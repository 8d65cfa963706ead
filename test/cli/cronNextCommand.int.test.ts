import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { runBuiltCli } from "../support/builtCli.js"

const root = resolve(import.meta.dirname, "../..")

/** The built CLI in UTC unless `env` names another zone. */
const agenthost = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runBuiltCli(args, { env: { TZ: "UTC", ...env } })

beforeAll(() => {
  if (!existsSync(resolve(root, "dist/cli/cronCommand.js"))) {
    throw new Error("dist/ has no cron command: run `npm run build` before the integration tests")
  }
})

// Each run starts the whole CLI (~0.3 s on a quiet machine, several seconds on a loaded one), so this file
// covers what only a real process shows — exit codes, stdout/stderr, TZ from the environment — and
// cronNextCommand.test.ts covers the rest in-process.
describe("agenthost cron next (built CLI)", () => {
  it("prints fire times as ISO-8601 with the zone's offset, across a spring-forward gap", async () => {
    const r = await agenthost([
      "cron",
      "next",
      "30 2 * * *",
      "--from",
      "2026-03-07T12:00:00-05:00",
      "--tz",
      "America/New_York",
      "--count",
      "3",
    ])
    expect(r).toEqual({
      code: 0,
      stdout: "2026-03-08T03:00:00-04:00\n2026-03-09T02:30:00-04:00\n2026-03-10T02:30:00-04:00\n",
      stderr: "",
    })
  })

  it("takes the host's zone from TZ, and prints jittered times as a JSON array", async () => {
    const r = await agenthost(
      [
        "cron",
        "next",
        "0 9 * * *",
        "--from",
        "2026-01-01T00:00:00Z",
        "--count",
        "2",
        "--json",
        "--task-id",
        "80000000",
        "--recurring",
      ],
      { TZ: "Asia/Kolkata" },
    )
    // Daily: 0.5 * 0.1 * 24 h = 72 min, capped at 15 min.
    expect(r).toEqual({
      code: 0,
      stdout: '["2026-01-01T09:15:00+05:30","2026-01-02T09:15:00+05:30"]\n',
      stderr: "",
    })
  })

  it("refuses an invalid expression with AGH_CRON_INVALID on stderr and exit 2", async () => {
    expect(await agenthost(["cron", "next", "5/15 * * * *"])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'agenthost cron: AGH_CRON_INVALID: invalid cron expression "5/15 * * * *": minute field "5/15": ' +
        'a step needs a range or "*" (Vixie cron refuses 5/15; write 5-59/15)\n',
    })
  })

  it("exits 1 with AGH_CRON_NO_NEXT_RUN when the schedule never fires", async () => {
    expect(
      await agenthost(["cron", "next", "0 0 30 2 *", "--from", "2026-01-01T00:00:00Z", "--json"]),
    ).toEqual({
      code: 1,
      stdout: "[]\n",
      stderr:
        'agenthost cron: AGH_CRON_NO_NEXT_RUN: "0 0 30 2 *" never fires after 2026-01-01T00:00:00+00:00 in UTC ' +
        "(looked 100 years ahead)\n",
    })
  })
})
