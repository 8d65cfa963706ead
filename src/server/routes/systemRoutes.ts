import * as Schema from "effect/Schema"
import { buildOpenApi } from "../openapi.js"
import { defineRoute } from "../route.js"
import type { RouteModule } from "../routeContext.js"

const HealthDoc = Schema.Struct({ ok: Schema.Boolean }).annotate({ identifier: "Health" })

/** `GET /healthz` (no auth) and `GET /openapi.json`. */
export const systemRoutes: RouteModule = (context) => [
  defineRoute({
    method: "GET",
    path: "/healthz",
    auth: false,
    doc: {
      summary: "Liveness",
      description: "No auth; reveals nothing but that the host answers.",
      tags: ["system"],
      responses: { 200: { description: "The host is up", schema: HealthDoc } },
    },
    handle: () => ({ status: 200, body: { ok: true } }),
  }),
  defineRoute({
    method: "GET",
    path: "/openapi.json",
    doc: {
      summary: "This API as an OpenAPI 3.1 document",
      description: "Requires the token like every route but /healthz (SPEC §4).",
      tags: ["system"],
      responses: { 200: { description: "The document" } },
    },
    handle: ({ origin }) => ({ status: 200, body: buildOpenApi(context.routes(), origin) }),
  }),
]
