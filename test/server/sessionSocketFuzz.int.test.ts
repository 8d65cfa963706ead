import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FakeSessionHandle } from "../support/fakeSessionHandle.js"
import { prng } from "../support/prng.js"
import { startTestServer, type TestServer, type WsClient } from "./testServer.js"

const FRAMES = 10_000
const MAX_FRAME = 16 * 1024
const SEED = Number(process.env.AGH_FUZZ_SEED ?? 0x5eed)

type Frame =
  /** What the server must answer: an error code, nothing (valid frames), or a close code. */
  { readonly data: string | Buffer; readonly binary?: boolean; readonly expect: "error" | "ok" | "close" }

function makeFrames(random: () => number): Frame[] {
  const pick = <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(random() * xs.length)] as T
  const junk = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join("")
  const generators: Array<() => Frame> = [
    () => ({ data: junk(1 + Math.floor(random() * 40)), expect: "error" }),
    () => ({ data: `{"type":"user","message":${junk(5)}`, expect: "error" }),
    () => ({ data: JSON.stringify(pick([1, "s", null, true, [1], [], 3.5])), expect: "error" }),
    () => ({ data: JSON.stringify({ type: pick([1, null, {}, [], false]) }), expect: "error" }),
    () => ({
      data: JSON.stringify({
        type: pick(["assistant", "result", "system", "control_cancel_request", junk(8)]),
      }),
      expect: "error",
    }),
    () => ({
      data: JSON.stringify({
        type: "user",
        message: pick([
          null,
          1,
          {},
          { role: "user" },
          { role: "assistant", content: "x" },
          { role: "user", content: 5 },
        ]),
      }),
      expect: "error",
    }),
    () => ({
      data: JSON.stringify({
        type: "control_response",
        response: pick([
          null,
          {},
          { subtype: "success" },
          { subtype: "success", request_id: "r", response: { behavior: "maybe" } },
          { subtype: "success", request_id: "r", response: { behavior: "deny" } },
          { subtype: "weird", request_id: "r" },
        ]),
      }),
      expect: "error",
    }),
    () => ({
      data: JSON.stringify({ type: "control_request", request: { subtype: "interrupt" } }),
      expect: "error",
    }),
    () => ({ data: Buffer.from(junk(10)), binary: true, expect: "error" }),
    // Valid frames mixed in: they must keep working between the garbage.
    () => ({ data: JSON.stringify({ type: "keep_alive" }), expect: "ok" }),
    () => ({
      data: JSON.stringify({
        type: "user",
        message: { role: "user", content: junk(12) },
        parent_tool_use_id: null,
      }),
      expect: "ok",
    }),
    // Rare: frames that end the connection.
    () =>
      random() < 0.05
        ? { data: "x".repeat(MAX_FRAME + 1 + Math.floor(random() * 1000)), expect: "close" }
        : { data: "{", expect: "error" },
    () =>
      random() < 0.05
        ? { data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), expect: "close" }
        : { data: "}", expect: "error" },
  ]
  return Array.from({ length: FRAMES }, () => pick(generators)())
}

describe(`10,000 random and malformed frames (seed ${SEED})`, () => {
  let t: TestServer
  let session: FakeSessionHandle

  beforeAll(async () => {
    t = await startTestServer({
      max_frame_bytes: MAX_FRAME,
      ws_max_bad_frames: 40,
      ws_bad_frame_window_ms: 1_000,
    })
    session = t.manager.add(new FakeSessionHandle({ id: "s_fuzz", workDir: t.workRoot, status: "idle" }))
  })
  afterAll(async () => {
    await t.close()
  })

  it("answers or disconnects the fuzzer while the session and another client are unharmed", {
    timeout: 60_000,
  }, async () => {
    const started = Date.now()
    const random = prng(SEED)
    const frames = makeFrames(random)
    const observer = await t.ws("/sessions/s_fuzz/ws")
    let fuzzer: WsClient = await t.ws("/sessions/s_fuzz/ws")
    const closes = new Map<string, number>()
    let reconnects = 0
    let validUsers = 0
    let emitted = 0
    let sync = 0
    let i = 0
    while (i < frames.length) {
      const batch = frames.slice(i, i + 1 + Math.floor(random() * 40))
      i += batch.length
      const before = fuzzer.frames.length
      let expectedErrors = 0
      for (const frame of batch) {
        if (frame.binary === true) fuzzer.socket.send(frame.data, { binary: true })
        else if (Buffer.isBuffer(frame.data)) fuzzer.socket.send(frame.data, { binary: false })
        else fuzzer.socket.send(frame.data)
        if (frame.expect === "error") expectedErrors++
        if (frame.expect === "ok" && frame.data.includes('"user"')) validUsers++
      }
      const id = `sync-${++sync}`
      fuzzer.send({ type: "control_request", request_id: id, request: { subtype: "noop" } })
      const answered = await fuzzer
        .waitFor((f) => (f.response as { request_id?: string } | undefined)?.request_id === id, {
          from: before,
        })
        .then(
          () => true,
          () => false,
        )
      if (answered) {
        // Every bad frame of the batch got exactly one error frame, in order, before the sync answer.
        const errors = fuzzer.frames.slice(before).filter((f) => f.type === "error")
        expect(errors).toHaveLength(expectedErrors)
        for (const e of errors) expect((e.error as { code: string }).code).toMatch(/^AGH_WS_/)
      } else {
        const { code, reason } = await fuzzer.closed
        expect([1007, 1008, 1009], reason).toContain(code)
        const key = `${code} ${reason.split(":")[0]}`
        closes.set(key, (closes.get(key) ?? 0) + 1)
        fuzzer = await t.ws(`/sessions/s_fuzz/ws?after=${session.info().last_seq}`)
        reconnects++
      }
      // The session keeps talking through it all.
      session.emit({ type: "assistant", n: ++emitted })
      // Let the bad-frame window slide now and then, so some fuzz connections live long.
      if (random() < 0.3) t.clock.advance(600)
    }
    const lastSeq = session.info().last_seq
    await observer.waitFor((f) => f.seq === lastSeq, { timeoutMs: 10_000 })
    const elapsed = Date.now() - started
    process.stdout.write(
      `fuzz: ${FRAMES} frames, ${reconnects} reconnects, closes ${JSON.stringify(Object.fromEntries(closes))}, ${elapsed} ms\n`,
    )
    expect(observer.seqs()).toEqual(Array.from({ length: lastSeq }, (_, k) => k + 1))
    expect(observer.frames.filter((f) => f.type === "assistant").map((f) => f.n)).toEqual(
      Array.from({ length: emitted }, (_, k) => k + 1),
    )
    expect(observer.frames.filter((f) => f.type === "error")).toEqual([])
    expect(observer.socket.readyState).toBe(observer.socket.OPEN)
    // Only well-formed user messages reached the session (some valid ones died with their connection).
    expect(session.userMessages.length).toBeLessThanOrEqual(validUsers)
    expect(session.userMessages.length).toBeGreaterThan(0)
    for (const m of session.userMessages) expect(m).toMatchObject({ type: "user", message: { role: "user" } })
    expect(session.info().status).toBe("idle")
    expect(closes.get("1008 AGH_WS_TOO_MANY_BAD_FRAMES")).toBeGreaterThan(0)
    expect(elapsed).toBeLessThan(45_000)
  })
})
