import { createReadStream } from "node:fs"
import { lstat, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { Git } from "../../adapters/git.js"
import { type BundleStore, makeBundleStore } from "../../teleport/bundleStore.js"
import { exportSessionChanges } from "../../teleport/pullBack.js"
import { requireSession } from "../requestParams.js"
import { defineRoute } from "../route.js"
import type { RouteModule } from "../routeContext.js"
import { ErrorDoc } from "./sessionSchemas.js"
import { runTeleport, TeleportHttpError } from "./teleportHttp.js"

/** Default upload limit of `POST /bundles`: 1 GiB. */
export const DEFAULT_MAX_BUNDLE_BYTES = 1024 * 1024 * 1024

/** Media type of git bundles in both directions. */
export const BUNDLE_CONTENT_TYPE = "application/x-git-bundle"

export interface BundlesRoutesOptions {
  /**
   * The host's bundle store, shared with the session manager (which checks a bundle out for a `bundle_id`
   * session and deletes it when the session ends). Default: a store on `<home>/bundles`.
   */
  readonly bundles?: BundleStore
  /** Uploads longer than this get 413 `AGH_BUNDLE_TOO_LARGE`. Default {@link DEFAULT_MAX_BUNDLE_BYTES}. */
  readonly maxBundleBytes?: number
  /** Git for checking uploads and exporting changes. Default the live layer. */
  readonly git?: Layer.Layer<Git>
}

const TAGS = ["teleport"]

const BundleCreatedDoc = Schema.Struct({
  bundle_id: Schema.String.annotate({ description: "Pass as bundle_id to POST /sessions" }),
  bytes: Schema.Int,
  head_sha: Schema.NullOr(Schema.String).annotate({ description: "The client's HEAD; null when unborn" }),
  snapshot_sha: Schema.String,
  branch: Schema.NullOr(Schema.String).annotate({ description: "The client's branch; null when detached" }),
}).annotate({ identifier: "BundleCreated" })

/** The store's own messages name host paths; a client gets the same facts without them. */
function tooLarge(limit: number, declared: number): TeleportHttpError {
  return new TeleportHttpError({
    code: "AGH_BUNDLE_TOO_LARGE",
    status: 413,
    message: `bundle upload of ${declared} bytes (Content-Length) is larger than the limit of ${limit} bytes`,
    headers: { connection: "close" },
  })
}

/**
 * `POST /bundles` (a streamed git bundle upload, checked completely before it gets an id),
 * `DELETE /bundles/:id`, and `GET /sessions/:id/changes` (the session's changes as a pull-back bundle).
 */
export function bundlesRoutes(options: BundlesRoutesOptions = {}): RouteModule {
  return (context) => {
    const store = options.bundles ?? makeBundleStore({ dir: join(context.home.home, "bundles") })
    const maxBytes = options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES
    const git = options.git ?? Git.layer
    // Leftovers of a crash go before the first upload is taken (docs/teleport.md: sweep at start-up).
    const swept = Effect.runPromise(Effect.ignore(store.sweep()))

    return [
      defineRoute({
        method: "POST",
        path: "/bundles",
        body: {
          raw: true,
          contentType: BUNDLE_CONTENT_TYPE,
          description: "A snapshot bundle made by createSnapshotBundle (`agenthost remote` sends one)",
        },
        doc: {
          summary: "Upload a repository snapshot bundle",
          description:
            `Streams the body to disk (never into memory), refuses more than ${maxBytes} bytes with 413 and ` +
            "closes the connection, then checks the bundle completely (header, verify, trial fetch, strict " +
            "fsck, snapshot trailers) before it gets an id. Whatever fails, nothing is kept. The bundle is " +
            "deleted when the session created from it ends.",
          tags: TAGS,
          responses: {
            201: { description: "Stored", schema: BundleCreatedDoc },
            400: {
              description:
                "Not a valid snapshot bundle or a broken upload (AGH_BUNDLE_INVALID / _UPLOAD_FAILED)",
              schema: ErrorDoc,
            },
            413: { description: "Over the host's limit (AGH_BUNDLE_TOO_LARGE)", schema: ErrorDoc },
            507: { description: "The host's disk is full (AGH_DISK_FULL)", schema: ErrorDoc },
          },
        },
        handle: async ({ req }) => {
          const declared = Number(req.headers["content-length"] ?? Number.NaN)
          if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes, declared)
          await swept
          const received = await runTeleport(store.receive(req, { maxBytes }), git, ["AGH_BUNDLE_TOO_LARGE"])
          return {
            status: 201,
            headers: { location: `/bundles/${received.bundleId}` },
            body: {
              bundle_id: received.bundleId,
              bytes: received.bytes,
              head_sha: received.headSha,
              snapshot_sha: received.snapshotSha,
              branch: received.branch,
            },
          }
        },
      }),
      defineRoute({
        method: "DELETE",
        path: "/bundles/:id",
        doc: {
          summary: "Delete an uploaded bundle",
          description:
            "For a client whose session could not be created after the upload; a session's own bundle is " +
            "deleted by the host when the session ends.",
          tags: TAGS,
          responses: {
            204: { description: "Deleted" },
            404: { description: "No such bundle (AGH_BUNDLE_NOT_FOUND)", schema: ErrorDoc },
          },
        },
        handle: async ({ params }) => {
          const id = params.id ?? ""
          const existed = await runTeleport(store.delete(id), git)
          if (!existed) {
            throw new TeleportHttpError({
              code: "AGH_BUNDLE_NOT_FOUND",
              status: 404,
              message: `no bundle ${JSON.stringify(id)} on this host`,
            })
          }
          return { status: 204 }
        },
      }),
      defineRoute({
        method: "GET",
        path: "/sessions/:id/changes",
        doc: {
          summary: "Download a session's changes (git bundle)",
          description:
            "A bundle with refs/agenthost/result (the session's HEAD plus one commit of its uncommitted " +
            "work, if any) and refs/agenthost/base (the commit it started from), excluding the base's " +
            "history: `agenthost pull ID` fetches it into the branch agenthost/<ID>. Headers: " +
            "x-agenthost-result-sha, x-agenthost-base-sha (absent when it started unborn), " +
            "x-agenthost-commits, x-agenthost-uncommitted. Made fresh on every request, from a live or an " +
            "ended session, without changing its work directory.",
          tags: ["sessions", ...TAGS],
          responses: {
            200: { description: "The bundle", contentType: BUNDLE_CONTENT_TYPE },
            400: {
              description: "The work directory is not a git repository (AGH_GIT_NOT_A_REPO)",
              schema: ErrorDoc,
            },
            404: { description: "No such session (AGH_SESSION_NOT_FOUND)", schema: ErrorDoc },
          },
        },
        handle: async ({ params }) => {
          const info = requireSession(context.sessions.manager, params.id).info()
          const hasGit = await lstat(join(info.work_dir, ".git")).then(
            (s) => s.isDirectory(),
            () => false,
          )
          if (!hasGit) {
            throw new TeleportHttpError({
              code: "AGH_GIT_NOT_A_REPO",
              status: 400,
              message: `session ${info.id} has no changes to pull: its work directory ${info.work_dir} is not the top of a git repository`,
            })
          }
          const dir = await mkdtemp(join(tmpdir(), "agh-changes-"))
          const cleanup = () => rm(dir, { recursive: true, force: true })
          try {
            const exported = await runTeleport(
              exportSessionChanges(info.work_dir, join(dir, "changes.bundle"), {
                sessionId: info.id,
                tempParent: dir,
              }),
              git,
            )
            const stream = createReadStream(exported.bundlePath)
            stream.once("close", () => void cleanup())
            return {
              status: 200,
              stream,
              headers: {
                "content-type": BUNDLE_CONTENT_TYPE,
                "content-length": String(exported.bytes),
                "content-disposition": `attachment; filename="agenthost-${info.id}.bundle"`,
                "x-agenthost-result-sha": exported.resultSha,
                ...(exported.baseSha === null ? {} : { "x-agenthost-base-sha": exported.baseSha }),
                "x-agenthost-commits": String(exported.commits),
                "x-agenthost-uncommitted": String(exported.uncommitted),
              },
            }
          } catch (error) {
            await cleanup()
            throw error
          }
        },
      }),
    ]
  }
}
