import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { contextDigest, digestHex, makeContextDigester } from "../../src/machines/stateDigest.js"

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const leaf: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6 }),
)
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom("a", "b", "c", "d"), tie("value"), { maxKeys: 4 }),
  ),
})).value

/** How the next context derives from the previous one, the way xstate's assign does it. */
type Edit = { readonly path: ReadonlyArray<string>; readonly value: Json | undefined }
const editArb: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.constantFrom("a", "b", "c", "d"), { minLength: 1, maxLength: 3 }),
  value: fc.option(json, { nil: undefined }),
})

/** Copies along the path (structural sharing elsewhere), sets the value at its end. */
function applyEdit(
  root: { [key: string]: Json | undefined },
  edit: Edit,
): { [key: string]: Json | undefined } {
  const [head, ...rest] = edit.path
  if (head === undefined) return root
  if (rest.length === 0) return { ...root, [head]: edit.value }
  const child = root[head]
  const base = typeof child === "object" && child !== null && !Array.isArray(child) ? child : {}
  return { ...root, [head]: applyEdit(base, { path: rest, value: edit.value }) as Json }
}

describe("makeContextDigester", () => {
  it("always equals the stateless contextDigest over contexts derived by spreads", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom("a", "b", "c", "d"), json, { maxKeys: 4 }),
        fc.array(editArb, { maxLength: 20 }),
        (start, edits) => {
          const digest = makeContextDigester()
          let context: { [key: string]: Json | undefined } = start
          expect(digestHex(digest(context))).toBe(contextDigest(context))
          for (const edit of edits) {
            context = applyEdit(context, edit)
            expect(digestHex(digest(context))).toBe(contextDigest(context))
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
