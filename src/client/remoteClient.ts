import { downloadFile, type TransferProgress, type TransferResponse, uploadFile } from "./bundleTransfer.js"
import { isRecord } from "./clientMessages.js"
import { DirectConnectError } from "./directConnectError.js"
import {
  badResponse,
  type HostEndpoint,
  hostEndpoint,
  httpError,
  parseJson,
  requestJson,
} from "./hostRequest.js"

/** `GET /host/capabilities`: what a host allows and how busy it is. */
export interface HostCapabilities {
  readonly allowRemoteSessions: boolean
  readonly allowSkipPermissions: boolean
  readonly maxSessions: number
  readonly liveSessions: number
  readonly maxBundleBytes: number
  readonly defaultAgent: string
  readonly agents: ReadonlyArray<string>
}

/** A remote of the user's repository that the host can clone itself. */
export interface HostReachableRemote {
  readonly name: string
  readonly url: string
  /** What to send as `clone_url` (the host's real path for a local remote). */
  readonly cloneUrl: string
  readonly kind: string
}

/** The 201 answer to `POST /bundles`. */
export interface UploadedBundle {
  readonly bundleId: string
  readonly bytes: number
}

/** What `GET /sessions/:id/changes` wrote and said about it. */
export interface DownloadedChanges {
  readonly file: string
  readonly bytes: number
  readonly resultSha: string | undefined
  readonly baseSha: string | undefined
  readonly commits: number | undefined
  readonly uncommitted: boolean | undefined
}

export interface RemoteClientOptions {
  readonly serverUrl: string
  readonly authToken: string
  /** Per JSON request; a host that does not answer in time is `Unreachable`. Default 30 s. */
  readonly timeoutMs?: number
}

/**
 * The teleport half of the client (docs/remote.md): host checks, bundle upload and the changes download.
 * Bundles are streamed from and to files, never held in memory; errors are {@link DirectConnectError}s
 * carrying the host's own code (`AGH_BUNDLE_TOO_LARGE`, `AGH_POLICY_REMOTE_SESSIONS`, ...).
 *
 * @example
 * const remote = new RemoteClient({ serverUrl, authToken })
 * const { bundleId } = await remote.uploadBundle("/tmp/seed.bundle", (done, total) => draw(done, total))
 */
export class RemoteClient {
  readonly serverUrl: string
  private readonly endpoint: HostEndpoint

  constructor(options: RemoteClientOptions) {
    this.endpoint = hostEndpoint(options)
    this.serverUrl = this.endpoint.serverUrl
  }

  /** `GET /healthz` without the token: resolves when the host answers at all. */
  async health(): Promise<void> {
    await requestJson(this.endpoint, "GET", "/healthz", { auth: false }).catch((error: unknown) => {
      // Any 2xx means the host is up, whatever its body says.
      if (!(error instanceof DirectConnectError && error.reason === "BadResponse")) throw error
    })
  }

  /** `GET /host/capabilities` (authenticated: a 401 here means the token is wrong). */
  async capabilities(): Promise<HostCapabilities> {
    const url = `${this.serverUrl}/host/capabilities`
    const v = await requestJson(this.endpoint, "GET", "/host/capabilities")
    if (
      !isRecord(v) ||
      typeof v.allow_remote_sessions !== "boolean" ||
      typeof v.max_sessions !== "number" ||
      typeof v.live_sessions !== "number" ||
      typeof v.max_bundle_bytes !== "number"
    ) {
      throw badResponse(url, "GET /host/capabilities did not answer the capabilities", v)
    }
    return {
      allowRemoteSessions: v.allow_remote_sessions,
      allowSkipPermissions: v.allow_skip_permissions === true,
      maxSessions: v.max_sessions,
      liveSessions: v.live_sessions,
      maxBundleBytes: v.max_bundle_bytes,
      defaultAgent: typeof v.default_agent === "string" ? v.default_agent : "",
      agents: Array.isArray(v.agents) ? v.agents.filter((a): a is string => typeof a === "string") : [],
    }
  }

  /** `POST /host/reachable-remotes`: which of these remotes the host would clone itself. */
  async reachableRemotes(
    remotes: ReadonlyArray<{ readonly name: string; readonly url: string }>,
  ): Promise<ReadonlyArray<HostReachableRemote>> {
    const url = `${this.serverUrl}/host/reachable-remotes`
    const v = await requestJson(this.endpoint, "POST", "/host/reachable-remotes", { body: { remotes } })
    const list = isRecord(v) ? v.reachable : undefined
    if (!Array.isArray(list)) throw badResponse(url, "POST /host/reachable-remotes is not a list", v)
    return list.flatMap((r) =>
      isRecord(r) &&
      typeof r.name === "string" &&
      typeof r.url === "string" &&
      typeof r.clone_url === "string"
        ? [
            {
              name: r.name,
              url: r.url,
              cloneUrl: r.clone_url,
              kind: typeof r.kind === "string" ? r.kind : "",
            },
          ]
        : [],
    )
  }

  /** `POST /bundles`: streams the bundle file, reporting progress. */
  async uploadBundle(file: string, onProgress?: TransferProgress): Promise<UploadedBundle> {
    const url = `${this.serverUrl}/bundles`
    const response = await uploadFile({
      url,
      authToken: this.endpoint.authToken,
      method: "POST",
      file,
      contentType: "application/x-git-bundle",
      ...(onProgress === undefined ? {} : { onProgress }),
    })
    const v = this.decode("POST", url, response)
    if (!isRecord(v) || typeof v.bundle_id !== "string") {
      throw badResponse(url, "POST /bundles did not answer { bundle_id }", v)
    }
    return { bundleId: v.bundle_id, bytes: typeof v.bytes === "number" ? v.bytes : 0 }
  }

  /** `DELETE /bundles/:id`: for a bundle whose session could not be created. */
  async deleteBundle(bundleId: string): Promise<void> {
    await requestJson(this.endpoint, "DELETE", `/bundles/${encodeURIComponent(bundleId)}`)
  }

  /** `GET /sessions/:id/changes` into `outFile`. */
  async downloadChanges(
    sessionId: string,
    outFile: string,
    onProgress?: TransferProgress,
  ): Promise<DownloadedChanges> {
    const url = `${this.serverUrl}/sessions/${encodeURIComponent(sessionId)}/changes`
    const response = await downloadFile({
      url,
      authToken: this.endpoint.authToken,
      outFile,
      ...(onProgress === undefined ? {} : { onProgress }),
    })
    if (response.status !== 200) this.decode("GET", url, response)
    const header = (name: string) => {
      const value = response.headers[name]
      return typeof value === "string" ? value : undefined
    }
    const commits = header("x-agenthost-commits")
    const uncommitted = header("x-agenthost-uncommitted")
    return {
      file: outFile,
      bytes: response.bytes,
      resultSha: header("x-agenthost-result-sha"),
      baseSha: header("x-agenthost-base-sha"),
      commits: commits === undefined ? undefined : Number(commits),
      uncommitted: uncommitted === undefined ? undefined : uncommitted === "true",
    }
  }

  /** Parses a transfer's JSON answer; a non-2xx status becomes the host's coded error. */
  private decode(method: string, url: string, response: TransferResponse): unknown {
    const value = parseJson(response.text)
    if (response.status >= 200 && response.status < 300) return value
    throw httpError(method, url, response.status, value, response.text)
  }
}
