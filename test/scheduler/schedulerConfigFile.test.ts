import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Result } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { DEFAULT_CRON_JITTER_CONFIG } from "../../src/cron/jitterConfig.js"
import {
  parseSchedulerConfig,
  readProjectRegistry,
  registerCronProject,
} from "../../src/scheduler/schedulerConfigFile.js"

const parse = (value: unknown) =>
  parseSchedulerConfig(
    typeof value === "string" ? value : JSON.stringify(value),
    "/h/cron.json",
    DEFAULT_CRON_JITTER_CONFIG,
  )
const failure = (value: unknown) => {
  const r = parse(value)
  if (Result.isSuccess(r)) throw new Error("expected a refusal")
  return `${r.failure.code}: ${r.failure.message}`
}

describe("parseSchedulerConfig", () => {
  it("accepts projects and partial jitter; no file means defaults", () => {
    expect(Result.getOrThrow(parse({ projects: ["/srv/app"], jitter: { recurringFrac: 0.2 } }))).toEqual({
      projects: ["/srv/app"],
      jitter: { recurringFrac: 0.2 },
    })
    expect(Result.getOrThrow(parseSchedulerConfig(null, "/h/cron.json", DEFAULT_CRON_JITTER_CONFIG))).toEqual(
      { projects: [], jitter: {} },
    )
  })

  it("refuses anything else with AGH_CRON_CONFIG_INVALID naming the file and the field", () => {
    expect(failure("{")).toMatch(/^AGH_CRON_CONFIG_INVALID: \/h\/cron.json: not valid JSON/)
    expect(failure([])).toContain("expected a JSON object")
    expect(failure({ project: [] })).toContain('field "project": unknown field')
    expect(failure({ projects: ["rel"] })).toContain(
      'field "projects[0]": expected an absolute path, got "rel"',
    )
    expect(failure({ jitter: { oneShotFloorMs: 100_000, oneShotMaxMs: 1_000 } })).toContain("oneShotFloorMs")
    expect(failure({ jitter: { recurringFrac: -1 } })).toMatch(
      /field "jitter": .*recurringFrac.*; the configuration in force stays$/,
    )
  })
})

describe("project registry", () => {
  let home: string
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "agh-registry-"))
  })
  afterEach(() => rmSync(home, { recursive: true, force: true }))

  it("adds each project once, canonical, and survives a missing file", () => {
    expect(Result.getOrThrow(readProjectRegistry(home))).toEqual([])
    const a = registerCronProject(home, home)
    registerCronProject(home, join(home, "."))
    registerCronProject(home, "/nonexistent/x")
    expect(Result.getOrThrow(readProjectRegistry(home))).toEqual([a, "/nonexistent/x"])
    expect(JSON.parse(readFileSync(join(home, "cron", "projects.json"), "utf8"))).toEqual({
      projects: [a, "/nonexistent/x"],
    })
  })

  it("reports a corrupt registry instead of overwriting it", () => {
    registerCronProject(home, "/a")
    writeFileSync(join(home, "cron", "projects.json"), "nope")
    expect(() => registerCronProject(home, "/b")).toThrow(/AGH_CRON_REGISTRY_IO|not valid JSON/)
    expect(readFileSync(join(home, "cron", "projects.json"), "utf8")).toBe("nope")
  })
})
