import { describe, expect, it } from "vitest"
import {
  parseProcStat,
  probeProcess,
  processHostId,
  processStartTime,
} from "../../src/adapters/processInfo.js"

// A real line from /proc/<pid>/stat, with a command name made to confuse a naive split.
const STAT =
  "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 1200 0 0 0 12 3 0 0 20 0 1 0 987654321 12345678 900 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 1 0 0 0 0 0"

describe("parseProcStat", () => {
  it("counts fields from the last parenthesis: state is field 3, start time field 22", () => {
    expect(parseProcStat(STAT)).toEqual({ state: "S", startTicks: "987654321" })
    expect(parseProcStat(STAT.replace(" S ", " Z "))?.state).toBe("Z")
  })

  it("rejects lines it cannot read", () => {
    expect(parseProcStat("")).toBeUndefined()
    expect(parseProcStat("4242 (x) S 1 2")).toBeUndefined()
    expect(parseProcStat(STAT.replace("987654321", "soon"))).toBeUndefined()
  })
})

describe("probeProcess", () => {
  it("sees this process alive, with a start time that does not change", () => {
    const probe = probeProcess(process.pid)
    expect(probe.alive).toBe(true)
    if (process.platform === "linux") expect(probe.startTime).toMatch(/^([0-9a-f-]+:)?\d+$/)
    expect(processStartTime(process.pid)).toBe(probe.startTime)
  })

  it("never probes process groups or nonsense: 0, negatives, fractions are dead", () => {
    for (const pid of [0, -1, -process.pid, 1.5, Number.NaN])
      expect(probeProcess(pid)).toEqual({ alive: false })
  })

  it("names the host and, on Linux, the pid namespace", () => {
    expect(processHostId().length).toBeGreaterThan(0)
    if (process.platform === "linux") expect(processHostId()).toMatch(/\/pid:\[\d+\]$/)
  })
})
