import * as Schema from "effect/Schema"
import type { Route } from "./route.js"

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

/** The OpenAPI document's version of this API. */
export const API_VERSION = "1.0.0"

/** Rewrites JSON Schema `$defs` references to OpenAPI component references, recursively. */
function relocateRefs(value: unknown): Json {
  if (Array.isArray(value)) return value.map(relocateRefs)
  if (typeof value === "object" && value !== null) {
    const out: JsonObject = {}
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        k === "$ref" && typeof v === "string"
          ? v.replace(/^#\/\$defs\//, "#/components/schemas/")
          : relocateRefs(v)
    }
    return out
  }
  return value as Json
}

/** Collects component schemas from each JSON Schema document and returns the inline part. */
function schemaOf(schema: Schema.Top, components: JsonObject): Json {
  const doc = Schema.toJsonSchemaDocument(schema)
  for (const [name, def] of Object.entries(doc.definitions ?? {})) components[name] = relocateRefs(def)
  return relocateRefs(doc.schema)
}

/** A request body as a named component; the server refuses unknown fields, so the document says so. */
function bodySchema(schema: Schema.Top, name: string, components: JsonObject): Json {
  const inline = schemaOf(schema, components)
  components[name] =
    typeof inline === "object" && inline !== null && !Array.isArray(inline) && inline.type === "object"
      ? { ...inline, additionalProperties: false }
      : inline
  return { $ref: `#/components/schemas/${name}` }
}

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}")

/**
 * The OpenAPI 3.1 document of the given routes, generated from the same route table and schemas the server
 * validates with, so it cannot drift from what the server does.
 */
export function buildOpenApi(routes: ReadonlyArray<Route>, serverUrl?: string): JsonObject {
  const components: JsonObject = {}
  const paths: Record<string, JsonObject> = {}
  for (const route of routes) {
    const path = toOpenApiPath(route.path)
    const parameters: Json[] = []
    for (const name of route.path.match(/:(\w+)/g) ?? []) {
      parameters.push({ name: name.slice(1), in: "path", required: true, schema: { type: "string" } })
    }
    for (const q of route.doc.query ?? []) {
      parameters.push({
        name: q.name,
        in: "query",
        required: q.required === true,
        description: q.description,
        schema: schemaOf(q.schema, components),
      })
    }
    const responses: JsonObject = {}
    for (const [status, r] of Object.entries(route.doc.responses)) {
      responses[status] =
        r.contentType !== undefined
          ? {
              description: r.description,
              content: { [r.contentType]: { schema: { type: "string", format: "binary" } } },
            }
          : r.schema === undefined
            ? { description: r.description }
            : {
                description: r.description,
                content: { "application/json": { schema: schemaOf(r.schema, components) } },
              }
    }
    if (route.auth !== false) {
      responses["401"] ??= {
        description: "Missing or wrong bearer token (AGH_AUTH_REQUIRED / AGH_AUTH_INVALID)",
      }
    }
    const operation: JsonObject = {
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[/:](\w)/g, (_, c: string) => c.toUpperCase())}`,
      summary: route.doc.summary,
      ...(route.doc.description === undefined ? {} : { description: route.doc.description }),
      ...(route.doc.tags === undefined ? {} : { tags: [...route.doc.tags] }),
      ...(parameters.length === 0 ? {} : { parameters }),
      ...(route.body === undefined
        ? {}
        : "raw" in route.body
          ? {
              requestBody: {
                required: true,
                description: route.body.description,
                content: { [route.body.contentType]: { schema: { type: "string", format: "binary" } } },
              },
            }
          : {
              requestBody: {
                required: route.body.required === true,
                content: {
                  "application/json": { schema: bodySchema(route.body.schema, route.body.name, components) },
                },
              },
            }),
      responses,
      security: route.auth === false ? [] : [{ bearer: [] }],
    }
    const entry = paths[path] ?? {}
    entry[route.method.toLowerCase()] = operation
    paths[path] = entry
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "agenthost",
      version: API_VERSION,
      description: "Host for headless coding agents: sessions over HTTP, direct connect over WebSocket.",
    },
    ...(serverUrl === undefined ? {} : { servers: [{ url: serverUrl }] }),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "The token in <home>/token" },
      },
    },
  }
}
