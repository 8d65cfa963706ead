import * as Effect from "effect/Effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import {
  type CodeAndStatus,
  CodedError,
  codeTable,
  HttpCodedError,
  httpCodeTable,
} from "../../src/errors/codedError.js"
import { isHttpError } from "../../src/server/serverError.js"

const DEMO_CODES = codeTable({
  Missing: "AGH_DEMO_MISSING",
  Busy: "AGH_DEMO_BUSY",
})

type DemoReason = keyof typeof DEMO_CODES

const DEMO_HTTP = httpCodeTable({
  Missing: { code: "AGH_DEMO_MISSING", status: 404 },
  Busy: { code: "AGH_DEMO_BUSY", status: 409 },
})

class DemoError extends CodedError("DemoError", DEMO_CODES)<{
  readonly path: string
  readonly offset?: number
}> {}

class DemoHttpError extends HttpCodedError("DemoHttpError", DEMO_HTTP)<{ readonly id?: string }> {}

class HostCodedError extends CodedError("HostCodedError", DEMO_CODES)<{ readonly hostCode?: string }> {
  override get code(): string {
    return this.hostCode ?? super.code
  }
}

describe("codeTable and httpCodeTable", () => {
  it("type a table by its keys and keep its codes as plain strings", () => {
    // Checked by tsc (test/ is in tsconfig): the reason union is the keys, the codes are not narrowed to literals.
    expectTypeOf<DemoReason>().toEqualTypeOf<"Missing" | "Busy">()
    expectTypeOf(DEMO_CODES).toEqualTypeOf<Readonly<Record<DemoReason, string>>>()
    expectTypeOf(DEMO_HTTP).toEqualTypeOf<Readonly<Record<DemoReason, CodeAndStatus>>>()
    expect(DEMO_CODES).toEqual({ Missing: "AGH_DEMO_MISSING", Busy: "AGH_DEMO_BUSY" })
    expect(DEMO_HTTP.Busy).toEqual({ code: "AGH_DEMO_BUSY", status: 409 })
  })
})

describe("CodedError", () => {
  it("reads the code of the reason from the table", () => {
    const missing = new DemoError({ reason: "Missing", message: "no /tmp/x", path: "/tmp/x" })
    const busy = new DemoError({ reason: "Busy", message: "busy", path: "/tmp/y", offset: 12 })
    expect(missing.code).toBe("AGH_DEMO_MISSING")
    expect(busy.code).toBe("AGH_DEMO_BUSY")
    expect(busy.offset).toBe(12)
    expect("status" in busy).toBe(false)
  })

  it("is a tagged Error of its own class, named after its tag", () => {
    const cause = new Error("ENOENT")
    const error = new DemoError({ reason: "Missing", message: "no /tmp/x", path: "/tmp/x", cause })
    expect(error._tag).toBe("DemoError")
    expect(error.name).toBe("DemoError")
    expect(error.message).toBe("no /tmp/x")
    expect(error.cause).toBe(cause)
    expect(error).toBeInstanceOf(DemoError)
    expect(error).toBeInstanceOf(Error)
    expect(error).not.toBeInstanceOf(HostCodedError)
  })

  it("lets a class refine the code with an accessor", () => {
    expect(new HostCodedError({ reason: "Busy", message: "m", hostCode: "AGH_POLICY_CWD" }).code).toBe(
      "AGH_POLICY_CWD",
    )
    expect(new HostCodedError({ reason: "Busy", message: "m" }).code).toBe("AGH_DEMO_BUSY")
  })

  it("fails Effect.gen when yielded, keeping its fields and its class", async () => {
    const program = Effect.gen(function* () {
      return yield* new DemoError({ reason: "Busy", message: "busy at 7", path: "/p", offset: 7 })
    })
    const error = await Effect.runPromise(Effect.flip(program))
    expect(error).toBeInstanceOf(DemoError)
    expect(error).toMatchObject({
      _tag: "DemoError",
      reason: "Busy",
      message: "busy at 7",
      path: "/p",
      offset: 7,
    })
    expect(error.code).toBe("AGH_DEMO_BUSY")
  })

  it("is caught by its tag", async () => {
    const program = Effect.fail(new DemoError({ reason: "Missing", message: "gone", path: "/q" })).pipe(
      Effect.catchTag("DemoError", (e) => Effect.succeed(`${e.code} ${e.path}`)),
    )
    expect(await Effect.runPromise(program)).toBe("AGH_DEMO_MISSING /q")
  })
})

describe("HttpCodedError", () => {
  it("reads code and status of the reason from the table", () => {
    const missing = new DemoHttpError({ reason: "Missing", message: "no trigger t1", id: "t1" })
    const busy = new DemoHttpError({ reason: "Busy", message: "busy" })
    expect([missing.code, missing.status]).toEqual(["AGH_DEMO_MISSING", 404])
    expect([busy.code, busy.status]).toEqual(["AGH_DEMO_BUSY", 409])
    expect(missing.id).toBe("t1")
  })

  it("is what the HTTP router renders as a coded response", () => {
    const error = new DemoHttpError({ reason: "Busy", message: "busy" })
    expect(isHttpError(error)).toBe(true)
    expect(isHttpError(new DemoError({ reason: "Busy", message: "busy", path: "/p" }))).toBe(false)
  })

  it("fails Effect.gen when yielded, keeping its fields, tag and class", async () => {
    const program = Effect.gen(function* () {
      yield* new DemoHttpError({ reason: "Missing", message: "no t9", id: "t9" })
      return "unreached"
    })
    const error = await Effect.runPromise(Effect.flip(program))
    expect(error).toBeInstanceOf(DemoHttpError)
    expect(error._tag).toBe("DemoHttpError")
    expect([error.id, error.code, error.status]).toEqual(["t9", "AGH_DEMO_MISSING", 404])
  })
})
