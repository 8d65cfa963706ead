import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { BUILTIN_AGENT } from "../src/adapters/agentDefinition.js"
import { makeLiveAgentLauncher } from "../src/adapters/agentProcess.js"
import { liveClock } from "../src/adapters/clock.js"
import { liveIds } from "../src/adapters/ids.js"
import { openMachineRuntime } from "../src/effects/openMachineRuntime.js"
import type { SeqMessage } from "../src/effects/sessionHandle.js"
import { startSessionRuntime } from "../src/effects/sessionRuntime.js"
import { fileEventLogLayer } from "../src/eventlog/fileEventLog.js"
import { type Bench, percentile } from "./harness.js"

const TURNS = 300

/** The built agent, addressed from the repository (the bench runs from .bench-build/, not dist/). */
const AGENT = {
  ...BUILTIN_AGENT,
  args: [fileURLToPath(new URL("../../bin/agenthost.js", import.meta.url)), ...BUILTIN_AGENT.args.slice(1)],
}

/** A child that echoes each stdin line back: the raw cost of a round trip through a process's pipes. */
async function rawEchoLatenciesUs(rounds: number): Promise<number[]> {
  const child = spawn(process.execPath, ["-e", "process.stdin.pipe(process.stdout)"], {
    stdio: ["pipe", "pipe", "inherit"],
  })
  const latencies: number[] = []
  let pending: (() => void) | undefined
  let buffered = ""
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (chunk: string) => {
    buffered += chunk
    if (buffered.includes("\n")) {
      buffered = ""
      pending?.()
    }
  })
  const line = `${JSON.stringify({ type: "user", message: { role: "user", content: "hello" } })}\n`
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint()
    await new Promise<void>((resolve) => {
      pending = resolve
      child.stdin.write(line)
    })
    latencies.push(Number(process.hrtime.bigint() - start) / 1e3)
  }
  child.stdin.end()
  await new Promise((r) => child.once("close", r))
  return latencies
}

/** Turns through a real session: session machine + logged runtime + built-in agent process, no tools. */
async function sessionTurnLatenciesUs(turns: number): Promise<{ latencies: number[]; totalS: number }> {
  const dir = mkdtempSync(join(tmpdir(), "agh-bench-session-"))
  const { runtime, close } = await openMachineRuntime({
    eventLog: fileEventLogLayer({ dir }),
    clock: liveClock,
    stream: "s_bench",
  })
  const session = await startSessionRuntime({
    runtime,
    input: { sessionId: "s_bench", agent: "builtin", workDir: dir, createdAt: liveClock.now() },
    agentDefinition: AGENT,
    launcher: makeLiveAgentLauncher(),
    clock: liveClock,
    ids: liveIds,
    hostEnv: process.env,
  })
  let onResult: (() => void) | undefined
  session.subscribe(0, (m: SeqMessage) => {
    if (m.type === "result") onResult?.()
  })
  const latencies: number[] = []
  const began = process.hrtime.bigint()
  for (let i = 0; i < turns; i++) {
    const start = process.hrtime.bigint()
    await new Promise<void>((resolve, reject) => {
      onResult = resolve
      void session
        .whenDone()
        .then((info) => reject(new Error(`session ended: ${info.end_reason ?? info.status}`)))
      session.sendUserMessage({ type: "user", message: { role: "user", content: "hello" } }).catch(reject)
    })
    latencies.push(Number(process.hrtime.bigint() - start) / 1e3)
  }
  const totalS = Number(process.hrtime.bigint() - began) / 1e9
  await session.close()
  await session.whenDone()
  await close()
  rmSync(dir, { recursive: true, force: true })
  return { latencies, totalS }
}

/** Turns/s through a session with the built-in agent, and what the session runtime adds over raw pipes. */
export const sessionBench: Bench = async () => {
  const raw = (await rawEchoLatenciesUs(TURNS * 3)).sort((a, b) => a - b)
  const { latencies, totalS } = await sessionTurnLatenciesUs(TURNS)
  latencies.sort((a, b) => a - b)
  const rawP50 = percentile(raw, 50)
  const p50 = percentile(latencies, 50)
  return {
    title: `session runtime: ${TURNS} sequential turns with the built-in agent (no tools), batch durability`,
    rows: [
      { name: "raw child-process echo round trip p50", value: rawP50, unit: "µs", lowerIsBetter: true },
      {
        name: "raw child-process echo round trip p99",
        value: percentile(raw, 99),
        unit: "µs",
        lowerIsBetter: true,
      },
      { name: "session turn (user → result) p50", value: p50, unit: "µs", lowerIsBetter: true },
      {
        name: "session turn (user → result) p99",
        value: percentile(latencies, 99),
        unit: "µs",
        lowerIsBetter: true,
      },
      {
        name: "added latency per turn over raw echo, p50",
        value: p50 - rawP50,
        unit: "µs",
        lowerIsBetter: true,
      },
      { name: "turns/s", value: TURNS / totalS, unit: "turns/s" },
    ],
  }
}
