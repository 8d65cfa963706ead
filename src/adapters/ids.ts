import { randomBytes, randomUUID } from "node:crypto"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
/** The one module that makes ids. Everything else asks it, so tests and replay can make them predictable. */
export interface IdsShape {
  /** A session id: `s_` + 24 lowercase hex characters. */
  readonly sessionId: () => string
  /** A scheduled-task id: 8 lowercase hex characters (SPEC §7). */
  readonly taskId: () => string
  /** A request id for control requests the host originates. */
  readonly requestId: () => string
  /** A generic unique token (uuids for agent messages, connection ids). */
  readonly uuid: () => string
}

export const liveIds: IdsShape = {
  sessionId: () => `s_${randomBytes(12).toString("hex")}`,
  taskId: () => randomBytes(4).toString("hex"),
  requestId: () => `req_${randomBytes(8).toString("hex")}`,
  uuid: () => randomUUID(),
}

/** Deterministic ids: a counter rendered in each id's shape. */
export function sequentialIds(prefix = 0): IdsShape {
  let n = prefix
  const next = () => ++n
  const hex = (value: number, width: number) => value.toString(16).padStart(width, "0").slice(-width)
  return {
    sessionId: () => `s_${hex(next(), 24)}`,
    taskId: () => hex(next(), 8),
    requestId: () => `req_${hex(next(), 16)}`,
    uuid: () => `00000000-0000-4000-8000-${hex(next(), 12)}`,
  }
}

export class Ids extends Context.Service<Ids, IdsShape>()("agenthost/adapters/Ids") {
  static readonly layer: Layer.Layer<Ids> = Layer.succeed(Ids, liveIds)
  static layerTest(ids: IdsShape = sequentialIds()): Layer.Layer<Ids> {
    return Layer.succeed(Ids, ids)
  }
}
