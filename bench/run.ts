import { type Bench, renderSection } from "./harness.js"

/** Every benchmark, in the order they print. `npm run bench -- NAME` runs the ones whose key matches. */
const benches: ReadonlyArray<readonly [string, () => Promise<Bench>]> = [
  ["stream-json", async () => (await import("./streamJson.js")).streamJsonBench],
  ["eventlog", async () => (await import("./eventLogBench.js")).eventLogBench],
  ["session", async () => (await import("./sessionBench.js")).sessionBench],
  ["server", async () => (await import("./serverBench.js")).serverBench],
  ["cron", async () => (await import("./cronBench.js")).cronBench],
  ["scheduler", async () => (await import("./schedulerBench.js")).schedulerBench],
  ["teleport", async () => (await import("./teleportBench.js")).teleportBench],
  ["replay", async () => (await import("./replayBench.js")).replayBench],
  ["triggers", async () => (await import("./triggersBench.js")).triggersBench],
]

const filter = process.argv[2]
for (const [key, load] of benches) {
  if (filter && !key.includes(filter)) continue
  const bench = await load()
  process.stdout.write(`${renderSection(await bench())}\n\n`)
}
