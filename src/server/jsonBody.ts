import type { IncomingMessage } from "node:http"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { BodySpec } from "./route.js"
import { describeIssues } from "./schemaIssues.js"
import { ServerError } from "./serverError.js"

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/** Reads the whole body, refusing more than `limit` bytes (`AGH_BODY_TOO_LARGE`) without buffering them. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN)
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit, declared))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.off("data", onData)
        // Stop reading: the router answers 413 and closes the connection instead of draining the upload.
        req.pause()
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    req.on("data", onData)
    req.once("end", () => resolve(Buffer.concat(chunks, size)))
    req.once("error", reject)
  })
}

function tooLarge(limit: number, declared?: number): ServerError {
  return new ServerError({
    reason: "BodyTooLarge",
    message:
      declared === undefined
        ? `request body exceeds ${limit} bytes (config max_body_bytes)`
        : `request body of ${declared} bytes exceeds ${limit} bytes (config max_body_bytes)`,
    headers: { connection: "close" },
  })
}

type BodyDecoder = (value: unknown) => Result.Result<unknown, Schema.SchemaError>
const decoders = new WeakMap<object, BodyDecoder>()

function decoderFor<Body>(
  schema: Schema.Decoder<Body>,
): (value: unknown) => Result.Result<Body, Schema.SchemaError> {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownResult(schema, {
      onExcessProperty: "error",
      errors: "all",
      reportInput: true,
    }) as BodyDecoder
    decoders.set(schema, decode)
  }
  return decode as (value: unknown) => Result.Result<Body, Schema.SchemaError>
}

/**
 * Reads, parses and validates a JSON body. An empty body is `{}` (every field of a body may then be
 * optional); a non-empty one must be `application/json` (`AGH_UNSUPPORTED_MEDIA_TYPE`), parse
 * (`AGH_BAD_JSON`) and match the schema (`AGH_BAD_REQUEST` naming each field). Unknown fields are refused so
 * that typos do not pass silently.
 */
export async function readJsonBody<Body>(
  req: IncomingMessage,
  spec: BodySpec<Body>,
  limit: number,
): Promise<Body> {
  const raw = await readBody(req, limit)
  let value: unknown = {}
  if (raw.length === 0) {
    if (spec.required === true) {
      throw new ServerError({ reason: "BadRequest", message: "this route needs a JSON request body" })
    }
  } else {
    const type = req.headers["content-type"] ?? ""
    if (!JSON_TYPE.test(type)) {
      throw new ServerError({
        reason: "UnsupportedMediaType",
        message: `request body must be application/json, got content-type ${JSON.stringify(type)}`,
      })
    }
    try {
      value = JSON.parse(raw.toString("utf8"))
    } catch (cause) {
      throw new ServerError({
        reason: "BadJson",
        message: `request body is not valid JSON: ${(cause as Error).message}`,
        cause,
      })
    }
  }
  const decoded = decoderFor(spec.schema)(value)
  if (Result.isFailure(decoded)) {
    throw new ServerError({ reason: "BadRequest", message: describeIssues(decoded.failure.issue, "body") })
  }
  return decoded.success
}
