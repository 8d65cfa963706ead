import { type Bench, renderSection } from "./harness.js"

/** Every benchmark, in the order they print. `npm run bench -- NAME` runs the ones whose key matches. */
const benches: ReadonlyArray<readonly [string, () => Promise<Bench>]> = []

const filter = process.argv[2]
for (const [key, load] of benches) {
  if (filter && !key.includes(filter)) continue
  const bench = await load()
  process.stdout.write(`${renderSection(await bench())}\n\n`)
}
