/**
 * Tiny benchmark harness: every benchmark measures its own raw baseline in the same run and reports the
 * ratio, because absolute numbers on a shared 2-core machine drift (../shared/PERF.md).
 */

export interface BenchRow {
  readonly name: string
  readonly value: number
  readonly unit: string
  /** The raw baseline this row is compared against, by name, and the target ratio if there is one. */
  readonly baseline?: string
  readonly target?: number
  /** When true, lower values are better (latency, memory); ratio is then baseline / value. */
  readonly lowerIsBetter?: boolean
}

export interface BenchSection {
  readonly title: string
  readonly rows: ReadonlyArray<BenchRow>
}

export type Bench = () => Promise<BenchSection>

/** The median of some samples (the upper one of an even count); NaN for none. */
export function median(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** Median of several repetitions of `fn`, which returns a rate or a duration. */
export async function medianOf(reps: number, fn: () => Promise<number> | number): Promise<number> {
  const values: number[] = []
  for (let i = 0; i < reps; i++) values.push(await fn())
  return median(values)
}

/** Operations per second of `count` operations done by `fn`. */
export async function opsPerSecond(count: number, fn: () => Promise<void> | void): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  const ns = Number(process.hrtime.bigint() - start)
  return (count * 1e9) / ns
}

export function percentile(sorted: ReadonlyArray<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] ?? Number.NaN
}

const fmt = (n: number) =>
  Number.isFinite(n)
    ? Math.abs(n) >= 100
      ? Math.round(n).toLocaleString("en-US")
      : n.toPrecision(3)
    : String(n)

export function renderSection(section: BenchSection): string {
  const byName = new Map(section.rows.map((r) => [r.name, r]))
  const lines = [`## ${section.title}`]
  for (const row of section.rows) {
    let extra = ""
    const base = row.baseline ? byName.get(row.baseline) : undefined
    if (base) {
      const ratio = row.lowerIsBetter ? base.value / row.value : row.value / base.value
      const verdict =
        row.target === undefined
          ? ""
          : ratio >= row.target
            ? `  ok (target ≥ ${row.target})`
            : `  BELOW target ${row.target}`
      extra = `  ratio ${ratio.toFixed(3)} vs ${row.baseline}${verdict}`
    }
    lines.push(`  ${row.name.padEnd(52)} ${fmt(row.value).padStart(14)} ${row.unit}${extra}`)
  }
  return lines.join("\n")
}
