import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Layer } from "effect"
import { Clock } from "../../src/adapters/clock.js"
import { fileEventLogLayer } from "../../src/eventlog/fileEventLog.js"
import { eventLogContract } from "./eventLogContract.js"

for (const durability of ["batch", "always", "none"] as const) {
  eventLogContract(`file (${durability})`, () => {
    const dir = fs.mkdtempSync(join(os.tmpdir(), "agh-eventlog-"))
    return {
      layer: (clock) =>
        fileEventLogLayer({ dir: join(dir, "logs"), durability }).pipe(Layer.provide(Clock.layerTest(clock))),
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    }
  })
}
