import * as Schema from "effect/Schema"
/** Epoch milliseconds (from the injected clock). */
export const EpochMs = Schema.Finite.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** A duration or count that cannot be negative. */
export const NonNegativeInt = Schema.Finite.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** Ids and names must say something. */
export const Id = Schema.String.check(Schema.isMinLength(1))

const MAX_SCAN_DEPTH = 64

/** Path to the first own `__proto__` key in a JSON value, if any (JSON.parse creates such keys). */
export function protoKeyPath(value: unknown, depth = 0): ReadonlyArray<PropertyKey> | undefined {
  if (typeof value !== "object" || value === null || depth > MAX_SCAN_DEPTH) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner = protoKeyPath(value[i], depth + 1)
      if (inner !== undefined) return [i, ...inner]
    }
    return undefined
  }
  for (const key of Object.keys(value)) {
    if (key === "__proto__") return [key]
    const inner = protoKeyPath((value as Record<string, unknown>)[key], depth + 1)
    if (inner !== undefined) return [key, ...inner]
  }
  return undefined
}

// The event log refuses records with a "__proto__" key (AGH_LOG_BAD_RECORD): refusing the event here keeps
// the machine from moving on an event its log could never hold, which replay would then miss.
const noProtoKeys = Schema.makeFilter<object>((value) => {
  const path = protoKeyPath(value)
  return path === undefined ? undefined : { path, issue: 'a "__proto__" key cannot be logged' }
})

/** Any JSON object, keys kept (except `__proto__`, refused). */
export const JsonObject = Schema.Record(Schema.String, Schema.Unknown).check(noProtoKeys)

/** A JSON object with a string `type`, every other key kept as it came (SDK messages grow weekly). */
export const SdkMessageSchema = Schema.StructWithRest(Schema.Struct({ type: Schema.String }), [
  Schema.Record(Schema.String, Schema.Unknown),
]).check(noProtoKeys)
