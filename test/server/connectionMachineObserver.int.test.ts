import { afterEach, describe, expect, it } from "vitest"
import { type Actor, createActor, toPromise } from "xstate"
import { connectionMachine } from "../../src/machines/connectionMachine.js"
import { connectionMachineObserver } from "../../src/server/connectionMachineObserver.js"
import { FakeSessionHandle } from "../support/fakeSessionHandle.js"
import { startTestServer, type TestServer } from "./testServer.js"

let t: TestServer | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

/** A host whose every WebSocket client is recorded by a real connectionMachine actor. */
async function setup(overrides: Parameters<typeof startTestServer>[0] = {}) {
  const actors = new Map<string, Actor<typeof connectionMachine>>()
  t = await startTestServer(overrides, {
    observeConnection: (sessionId, connectionId) => {
      const actor = createActor(
        connectionMachine.provide({ actions: { openSocket: () => undefined, closeSocket: () => undefined } }),
        { input: { connectionId, side: "host", sessionId, maxBadFrames: 1_000 } },
      ).start()
      actors.set(connectionId, actor)
      return connectionMachineObserver(
        (event) => actor.send(event),
        () => t?.clock.now() ?? 0,
      )
    },
  })
  const session = t.manager.add(new FakeSessionHandle({ id: "s_m", workDir: t.workRoot, status: "idle" }))
  return { t, session, actors }
}

describe("connectionMachineObserver with the real connectionMachine", () => {
  it("records frames and a client leaving as completed (peerClosed)", async () => {
    const { t, actors } = await setup()
    const client = await t.ws("/sessions/s_m/ws")
    client.send("garbage")
    client.send({ type: "nope" })
    client.send({ type: "keep_alive" })
    await client.waitFor(
      (f) => f.type === "error" && (f.error as { code: string }).code === "AGH_WS_UNKNOWN_TYPE",
    )
    client.socket.close(1000, "bye")
    const actor = actors.get("conn_1")!
    await toPromise(actor)
    const snapshot = actor.getSnapshot()
    expect(snapshot.value).toBe("completed")
    expect(snapshot.context).toMatchObject({
      badFrames: 2,
      messagesReceived: 1,
      lastBadFrame: { code: "AGH_WS_UNKNOWN_TYPE" },
      endReason: { kind: "peerClosed", message: "the peer went away (code 1000, bye)" },
    })
  })

  it("records the host throwing a garbage sender out as killed", async () => {
    const { t, actors } = await setup({ ws_max_bad_frames: 2 })
    const client = await t.ws("/sessions/s_m/ws")
    for (let i = 0; i < 3; i++) client.send("garbage")
    expect((await client.closed).code).toBe(1008)
    const actor = actors.get("conn_1")!
    await toPromise(actor)
    expect(actor.getSnapshot().value).toBe("killed")
    expect(actor.getSnapshot().context.endReason).toMatchObject({
      kind: "killed",
      message: "1008 AGH_WS_TOO_MANY_BAD_FRAMES: 3 in 10000 ms",
    })
  })

  it("records the session ending its clients as completed (closed)", async () => {
    const { t, session, actors } = await setup()
    const client = await t.ws("/sessions/s_m/ws")
    session.finish()
    expect((await client.closed).code).toBe(1000)
    const actor = actors.get("conn_1")!
    await toPromise(actor)
    expect(actor.getSnapshot().value).toBe("completed")
    expect(actor.getSnapshot().context.endReason).toMatchObject({
      kind: "closed",
      message: "1000 session completed",
    })
  })
})
