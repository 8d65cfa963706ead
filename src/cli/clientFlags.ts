import { resolve } from "node:path"
import { type ClientTarget, resolveClientTarget } from "../client/clientTarget.js"
import { type CliIo, resolveHome } from "./cliCommand.js"

/** The flags of every command that talks to a host (SPEC §8); spread them into the command's options. */
export const CLIENT_FLAGS = {
  url: { type: "string" },
  "token-file": { type: "string" },
  home: { type: "string" },
} as const

/** The parsed values of {@link CLIENT_FLAGS}. */
export interface ClientFlagValues {
  readonly url?: string | undefined
  readonly "token-file"?: string | undefined
  readonly home?: string | undefined
}

/**
 * The host and token a client command uses: `--home` (else `$AGENTHOST_HOME`, else `~/.agenthost`), `--url`,
 * and `--token-file` taken relative to the command's working directory.
 *
 * @throws DirectConnectError `TokenFile` or `BadUrl`.
 */
export function resolveClientFlags(flags: ClientFlagValues, io: Pick<CliIo, "env" | "cwd">): ClientTarget {
  const tokenFile = flags["token-file"]
  return resolveClientTarget({
    home: resolveHome(flags.home, io),
    url: flags.url,
    tokenFile: tokenFile === undefined ? undefined : resolve(io.cwd, tokenFile),
  })
}
