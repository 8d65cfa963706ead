/**
 * fast-check arbitraries for cron expressions, generated from Vixie cron's grammar: `*`, `*\/step`, values,
 * ranges, stepped ranges, lists of those, month and weekday names in any case, 0 and 7 for Sunday, ranges
 * ending in Sunday, and `@keywords`.
 */
import * as fc from "fast-check"

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

interface Spec {
  readonly min: number
  readonly max: number
  readonly name?: (value: number) => string | undefined
}

const MINUTE: Spec = { min: 0, max: 59 }
const HOUR: Spec = { min: 0, max: 23 }
const DOM: Spec = { min: 1, max: 31 }
const MONTH: Spec = { min: 1, max: 12, name: (v) => MONTHS[v - 1] }
const DOW: Spec = { min: 0, max: 7, name: (v) => DAYS[v % 7] }

const randomCase = (word: string) =>
  fc.constantFrom(word, word.toUpperCase(), word[0]!.toUpperCase() + word.slice(1))

/** A value written as a number or, where the field has them, a name. */
function valueText(spec: Spec, v: number): fc.Arbitrary<string> {
  const name = spec.name?.(v)
  return name === undefined ? fc.constant(String(v)) : fc.oneof(fc.constant(String(v)), randomCase(name))
}

const value = (spec: Spec) => fc.integer({ min: spec.min, max: spec.max })

function item(spec: Spec): fc.Arbitrary<string> {
  const span = spec.max - spec.min + 1
  const step = fc.integer({ min: 1, max: span + 2 })
  const bounds = fc
    .tuple(value(spec), value(spec))
    .map(([a, b]): readonly [number, number] => (a <= b ? [a, b] : [b, a]))
  const range = bounds.chain(([a, b]) =>
    fc.tuple(valueText(spec, a), valueText(spec, b)).map(([x, y]) => `${x}-${y}`),
  )
  const items: Array<fc.WeightedArbitrary<string>> = [
    { arbitrary: fc.constant("*"), weight: 2 },
    { arbitrary: step.map((s) => `*/${s}`), weight: 2 },
    { arbitrary: value(spec).chain((v) => valueText(spec, v)), weight: 5 },
    { arbitrary: range, weight: 2 },
    { arbitrary: fc.tuple(range, step).map(([r, s]) => `${r}/${s}`), weight: 1 },
  ]
  if (spec === DOW) {
    // Vixie accepts a range ending in Sunday by name: MON-SUN, fri-sun.
    const sundayEnd = fc
      .integer({ min: 1, max: 6 })
      .chain((lo) => fc.tuple(valueText(spec, lo), randomCase("sun")).map(([a, b]) => `${a}-${b}`))
    items.push({ arbitrary: sundayEnd, weight: 1 })
  }
  return fc.oneof(...items)
}

function field(spec: Spec, maxItems = 3): fc.Arbitrary<string> {
  return fc.array(item(spec), { minLength: 1, maxLength: maxItems }).map((xs) => xs.join(","))
}

const KEYWORDS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]

/** Any expression Vixie cron accepts (mostly 5 fields, sometimes a keyword). */
export const cronExpressionArb: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc
      .tuple(field(MINUTE), field(HOUR), field(DOM), field(MONTH), field(DOW))
      .map((fields) => fields.join(" ")),
    weight: 12,
  },
  { arbitrary: fc.constantFrom(...KEYWORDS), weight: 1 },
)

/** Hours around the local times zones change their clocks (00:00-04:00, and late evening). */
const dstHour: fc.Arbitrary<string> = fc.oneof(
  fc.constant("*"),
  fc.constantFrom("0", "1", "2", "3", "4", "22", "23", "1-3", "0-2", "2,3", "*/2", "1,2"),
  fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }).map((hs) => hs.join(",")),
)

const dstMinute: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("0", "30", "15", "45", "*", "*/15", "*/10", "0,30", "20-40/5", "59", "1"),
  field(MINUTE, 2),
)

/**
 * Expressions that fire near daylight-saving transitions: hours around them, every day or on a few
 * weekdays, with fixed-time and wildcard forms alike.
 */
export const dstCronExpressionArb: fc.Arbitrary<string> = fc
  .tuple(
    dstMinute,
    dstHour,
    fc.constantFrom("*", "*", "*", "*/2", "1-15", "8-14"),
    fc.constantFrom("*", "*", "*", "3,4,10,11", "mar-apr,sep-nov"),
    fc.constantFrom("*", "*", "*", "0", "sun", "1-5", "0,6"),
  )
  .map((fields) => fields.join(" "))
