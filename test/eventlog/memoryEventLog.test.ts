import { Layer } from "effect"
import { Clock } from "../../src/adapters/clock.js"
import { memoryEventLogLayer } from "../../src/eventlog/memoryEventLog.js"
import { eventLogContract } from "./eventLogContract.js"

eventLogContract("memory", () => ({
  layer: (clock) => memoryEventLogLayer.pipe(Layer.provide(Clock.layerTest(clock))),
}))
