import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { BUILTIN_AGENT } from "../../src/adapters/agentDefinition.js"
import { makeLiveAgentLauncher } from "../../src/adapters/agentProcess.js"
import { liveClock } from "../../src/adapters/clock.js"
import { liveIds } from "../../src/adapters/ids.js"
import { openMachineRuntime } from "../../src/effects/openMachineRuntime.js"
import type { SeqMessage } from "../../src/effects/sessionHandle.js"
import { startSessionRuntime } from "../../src/effects/sessionRuntime.js"
import { memoryEventLogLayer } from "../../src/eventlog/memoryEventLog.js"

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function waitFor(messages: SeqMessage[], predicate: (m: SeqMessage) => boolean, timeoutMs = 15_000) {
  return new Promise<SeqMessage>((resolve, reject) => {
    const started = Date.now()
    const tick = () => {
      const found = messages.find(predicate)
      if (found) return resolve(found)
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`timed out; saw ${JSON.stringify(messages.map((m) => m.type))}`))
      setImmediate(tick)
    }
    tick()
  })
}

describe("session runtime with the built-in agent process", () => {
  it("asks permission for `$ echo hi`, runs it when allowed, ends the turn, closes cleanly", async () => {
    const workDir = mkdtempSync(join(tmpdir(), "agh-sess-"))
    dirs.push(workDir)
    const { runtime, close } = await openMachineRuntime({
      eventLog: memoryEventLogLayer,
      clock: liveClock,
      stream: "s_test",
    })
    const session = await startSessionRuntime({
      runtime,
      input: { sessionId: "s_test", agent: "builtin", workDir, createdAt: liveClock.now() },
      agentDefinition: BUILTIN_AGENT,
      launcher: makeLiveAgentLauncher(),
      clock: liveClock,
      ids: liveIds,
      hostEnv: { ...process.env, AGENTHOST_TOKEN: "secret-token" },
    })
    const seen: SeqMessage[] = []
    session.subscribe(0, (m) => seen.push(m))
    await session.sendUserMessage({ type: "user", message: { role: "user", content: "$ echo hi" } })

    const request = await waitFor(seen, (m) => m.type === "control_request")
    expect(session.info().status).toBe("awaiting_permission")
    expect(session.pendingPermissions().map((m) => m.request_id)).toEqual([request.request_id])
    const outcome = await session.answerPermission(String(request.request_id), { behavior: "allow" }, "c1")
    expect(outcome).toBe("accepted")
    expect(
      await session.answerPermission(String(request.request_id), { behavior: "deny", message: "late" }),
    ).toBe("already_answered")

    const result = await waitFor(seen, (m) => m.type === "result")
    expect(result.subtype).toBe("success")
    const toolResult = seen.find((m) => m.type === "user" && JSON.stringify(m).includes("tool_result"))
    expect(JSON.stringify(toolResult)).toContain("hi\\n")
    expect(seen.some((m) => m.type === "control_cancel_request" && m.request_id === request.request_id)).toBe(
      true,
    )
    // seq is gap-free from 1
    expect(seen.map((m) => m.seq)).toEqual(seen.map((_, i) => i + 1))
    expect(session.info().status).toBe("idle")

    await session.close()
    const info = await session.whenDone()
    expect(info.status).toBe("completed")
    await close()
  })
})
