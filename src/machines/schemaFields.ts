import { Schema } from "effect"

/** Epoch milliseconds (from the injected clock). */
export const EpochMs = Schema.Finite.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** A duration or count that cannot be negative. */
export const NonNegativeInt = Schema.Finite.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** Ids and names must say something. */
export const Id = Schema.String.check(Schema.isMinLength(1))

/** A JSON object with a string `type`, every other key kept as it came (SDK messages grow weekly). */
export const SdkMessageSchema = Schema.StructWithRest(Schema.Struct({ type: Schema.String }), [
  Schema.Record(Schema.String, Schema.Unknown),
])

/** Any JSON object, keys kept. */
export const JsonObject = Schema.Record(Schema.String, Schema.Unknown)
