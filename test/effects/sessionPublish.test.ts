import * as Effect from "effect/Effect"
import { afterEach, describe, expect, it } from "vitest"
import { BUILTIN_AGENT } from "../../src/adapters/agentDefinition.js"
import { makeScriptedAgentLauncher } from "../../src/adapters/agentProcess.js"
import { sequentialIds } from "../../src/adapters/ids.js"
import { makeMachineRuntime } from "../../src/effects/machineRuntime.js"
import type { SeqMessage } from "../../src/effects/sessionHandle.js"
import { startSessionRuntime } from "../../src/effects/sessionRuntime.js"
import type { LogWriter } from "../../src/eventlog/eventLog.js"
import { type RuntimeHarness, runtimeHarness } from "./runtimeHarness.js"

/** A writer whose appends wait while the gate is shut: the log is slow to acknowledge. */
function gatedWriter(inner: LogWriter) {
  let open: () => void = () => {}
  let gate: Promise<void> = Promise.resolve()
  const writer: LogWriter = {
    stream: inner.stream,
    header: inner.header,
    report: inner.report,
    lastSeq: inner.lastSeq,
    append: (bodies) =>
      Effect.flatMap(
        Effect.promise(() => gate),
        () => inner.append(bodies),
      ),
  }
  return {
    writer,
    shut: () => {
      gate = new Promise((resolve) => {
        open = resolve
      })
    },
    open: () => open(),
  }
}

const harnesses: RuntimeHarness[] = []
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close()
})

describe("what a session shows the outside world", () => {
  it("publishes a message and the status it leads to only once the log acknowledged its record", async () => {
    const h = await runtimeHarness("s_pub")
    harnesses.push(h)
    const gate = gatedWriter(h.writer)
    const runtime = makeMachineRuntime(gate.writer, { clock: h.clock })
    const launcher = makeScriptedAgentLauncher(() => ({
      onMessage(message, agent) {
        if (message.type === "control_request") {
          const id = (message as { request_id: string }).request_id
          agent.emit({
            type: "control_response",
            response: { subtype: "success", request_id: id, response: {} },
          })
        } else if (message.type === "user") {
          agent.emit({
            type: "control_request",
            request_id: "R1",
            request: {
              subtype: "can_use_tool",
              tool_name: "Bash",
              input: { command: "echo hi" },
              tool_use_id: "toolu_R1",
            },
          })
        }
      },
    }))
    const session = await startSessionRuntime({
      runtime,
      input: { sessionId: "s_pub", agent: "builtin", workDir: "/tmp", createdAt: h.clock.now() },
      agentDefinition: BUILTIN_AGENT,
      launcher,
      clock: h.clock,
      ids: sequentialIds(),
      hostEnv: {},
    })
    await runtime.flushAsync()
    expect(session.info().status).toBe("idle")
    const seen: SeqMessage[] = []
    session.subscribe(0, (m) => seen.push(m))

    gate.shut()
    const sent = session.sendUserMessage({ type: "user", message: { role: "user", content: "$ echo hi" } })
    await new Promise((resolve) => setImmediate(resolve))
    // The machine already waits for the answer, but nothing of it is on the log yet.
    expect(session.actor.getSnapshot().context.pendingPermissions.R1).toBeDefined()
    expect(session.info().status).toBe("idle")
    expect(session.info().pending_permissions).toBe(0)
    expect(session.pendingPermissions()).toEqual([])
    expect(seen.map((m) => m.type)).toEqual([])

    gate.open()
    await sent
    await runtime.flushAsync()
    expect(session.info().status).toBe("awaiting_permission")
    expect(session.pendingPermissions().map((m) => m.request_id)).toEqual(["R1"])
    expect(seen.map((m) => [m.type, m.seq])).toEqual([
      ["user", 1],
      ["control_request", 2],
    ])
    const logged = (await h.records()).filter((r) => r.body.type === "event").length
    expect(logged).toBeGreaterThanOrEqual(2)
  })
})
