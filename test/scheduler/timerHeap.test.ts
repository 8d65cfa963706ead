import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { TimerHeap } from "../../src/scheduler/timerHeap.js"

describe("TimerHeap", () => {
  it("pops in due order, ties in push order", () => {
    const heap = new TimerHeap<string>()
    heap.push(30, "c")
    heap.push(10, "a1")
    heap.push(20, "b")
    heap.push(10, "a2")
    expect([heap.pop(), heap.pop(), heap.pop(), heap.pop(), heap.pop()].map((e) => e?.value)).toEqual([
      "a1",
      "a2",
      "b",
      "c",
      undefined,
    ])
  })

  it("removes any entry, once", () => {
    const heap = new TimerHeap<number>()
    const entries = [5, 3, 8, 1, 9, 2].map((due) => heap.push(due, due))
    expect(heap.remove(entries[2]!)).toBe(true)
    expect(heap.remove(entries[2]!)).toBe(false)
    expect(heap.remove(entries[3]!)).toBe(true)
    const popped = heap.pop()
    expect(popped?.value).toBe(2)
    expect(heap.remove(popped!)).toBe(false)
    expect(heap.size).toBe(3)
    heap.clear()
    expect([heap.size, heap.peek(), heap.remove(entries[0]!)]).toEqual([0, undefined, false])
  })

  it("matches a sorted list under random pushes, pops and removals", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("push" as const), due: fc.integer({ min: 0, max: 50 }) }),
            fc.record({ op: fc.constant("pop" as const) }),
            fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const heap = new TimerHeap<number>()
          const model: Array<{ due: number; seq: number; entry: ReturnType<typeof heap.push> }> = []
          let seq = 0
          for (const op of ops) {
            if (op.op === "push") model.push({ due: op.due, seq: seq++, entry: heap.push(op.due, seq) })
            else if (op.op === "pop") {
              model.sort((a, b) => a.due - b.due || a.seq - b.seq)
              expect(heap.pop()).toBe(model.shift()?.entry)
            } else if (model.length > 0) {
              const [victim] = model.splice(op.pick % model.length, 1)
              expect(heap.remove(victim!.entry)).toBe(true)
            }
            expect(heap.size).toBe(model.length)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
