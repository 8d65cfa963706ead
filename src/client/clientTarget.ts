import { HostClient } from "./hostClient.js"
import { resolveServerUrl } from "./serverUrl.js"
import { defaultTokenPath, readTokenFile } from "./tokenFile.js"

/** Where a client command connects and with which token. */
export interface ClientTarget {
  readonly serverUrl: string
  readonly authToken: string
  /** The file the token came from (shown in errors, never the token). */
  readonly tokenPath: string
  readonly host: HostClient
}

/**
 * Resolves a client command's target from `--url`, `--token-file` and `<home>` (SPEC §8): the token only ever
 * comes from a file, the URL from the flag, `<home>/config.json`, or the default.
 *
 * @throws DirectConnectError `TokenFile` or `BadUrl`.
 */
export function resolveClientTarget(options: {
  readonly home: string
  readonly url?: string | undefined
  readonly tokenFile?: string | undefined
}): ClientTarget {
  const tokenPath =
    options.tokenFile !== undefined && options.tokenFile !== ""
      ? options.tokenFile
      : defaultTokenPath(options.home)
  const authToken = readTokenFile(tokenPath)
  const serverUrl = resolveServerUrl(options.home, options.url)
  return { serverUrl, authToken, tokenPath, host: new HostClient({ serverUrl, authToken }) }
}
