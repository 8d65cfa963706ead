import * as fc from "fast-check"
import type {
  ActorStartedBody,
  EventBody,
  LoggedEvent,
  LogRecord,
  NoteBody,
  RecordBody,
} from "./logRecord.js"

/**
 * fast-check arbitraries for what the event log stores. Values are limited to what survives a msgpack
 * round trip unchanged (no `undefined` in arrays, no `-0`, no NaN, no `__proto__` keys, binary only as
 * `Uint8Array`), so `decode(encode(x))` equals `x` for every generated `x`.
 */

const keyArb = fc.string({ maxLength: 12 }).filter((k) => k !== "__proto__")

/** A msgpack-representable value: null, booleans, numbers, strings, bytes, arrays and maps of these. */
export const msgpackValueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
    fc.string({ unit: "grapheme", maxLength: 24 }),
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(keyArb, tie("value"), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value

const nameArb = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/)
/** A dot-namespaced event type such as `session.agentExited`. */
export const eventTypeArb: fc.Arbitrary<string> = fc
  .tuple(nameArb, nameArb)
  .map(([ns, name]) => `${ns}.${name}`)

/** An xstate state value: a state name or a nested object of them. */
export const stateValueArb: fc.Arbitrary<unknown> = fc.oneof(
  nameArb,
  fc.dictionary(nameArb, nameArb, { minKeys: 1, maxKeys: 3, noNullPrototype: true }),
)

const digestArb = fc.stringMatching(/^[0-9a-f]{16}$/)
const actorArb = fc.stringMatching(/^[a-z]{1,8}(:[a-z0-9]{1,8})?$/)

/** A machine event as logged. */
export const loggedEventArb: fc.Arbitrary<LoggedEvent> = fc
  .tuple(eventTypeArb, fc.dictionary(keyArb, msgpackValueArb, { maxKeys: 4, noNullPrototype: true }))
  .map(([type, fields]) => ({ ...fields, type }))

/** An `actor.started` body. */
export const actorStartedBodyArb: fc.Arbitrary<ActorStartedBody> = fc.record({
  type: fc.constant("actor.started" as const),
  actor: actorArb,
  machine: nameArb,
  machineVersion: fc.nat(1000),
  input: msgpackValueArb,
  state: stateValueArb,
  digest: digestArb,
})

/** An `event` body. */
export const eventBodyArb: fc.Arbitrary<EventBody> = fc.record({
  type: fc.constant("event" as const),
  actor: actorArb,
  event: loggedEventArb,
  state: stateValueArb,
  digest: digestArb,
})

/** A `note` body, with and without its optional `actor` and `data`. */
export const noteBodyArb: fc.Arbitrary<NoteBody> = fc.record(
  {
    type: fc.constant("note" as const),
    actor: actorArb,
    code: fc.stringMatching(/^AGH_[A-Z_]{1,16}$/),
    message: fc.string({ unit: "grapheme", maxLength: 40 }),
    data: msgpackValueArb,
  },
  { requiredKeys: ["type", "code", "message"] },
)

/** Any record body, every type represented. */
export const recordBodyArb: fc.Arbitrary<RecordBody> = fc.oneof(
  actorStartedBodyArb,
  eventBodyArb,
  noteBodyArb,
)

/** A stored record: positive safe-integer `seq`, epoch-ms `at`, any body. */
export const logRecordArb: fc.Arbitrary<LogRecord> = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  at: fc.integer({ min: 0, max: 8_640_000_000_000 }),
  body: recordBodyArb,
})
