import { resolve } from "node:path"
import { type ClientTarget, resolveClientTarget } from "../client/clientTarget.js"
import { DirectConnectError } from "../client/directConnectError.js"
import { CliError, type CliIo, resolveHome } from "./cliCommand.js"

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

/** {@link CLIENT_FLAGS} made absolute, before anything is read: what `resolveClientTarget` takes. */
export interface ClientFlagPaths {
  readonly home: string
  readonly url: string | undefined
  /** Absolute; `undefined` means `<home>/token`. */
  readonly tokenFile: string | undefined
}

/**
 * `--home` (else `$AGENTHOST_HOME`, else `~/.agenthost`) and `--token-file` taken relative to the command's
 * working directory, `--url` as given. Reads nothing: for a command that checks the token file itself and
 * reports what is wrong with it instead of stopping at the first error (`agenthost remote`).
 */
export function clientFlagPaths(flags: ClientFlagValues, io: Pick<CliIo, "env" | "cwd">): ClientFlagPaths {
  const tokenFile = flags["token-file"]
  return {
    home: resolveHome(flags.home, io),
    url: flags.url,
    tokenFile: tokenFile === undefined ? undefined : resolve(io.cwd, tokenFile),
  }
}

/**
 * The host and token a client command uses, from the paths of {@link clientFlagPaths}.
 *
 * @throws DirectConnectError `TokenFile` or `BadUrl`.
 */
export function resolveClientFlags(flags: ClientFlagValues, io: Pick<CliIo, "env" | "cwd">): ClientTarget {
  return resolveClientTarget(clientFlagPaths(flags, io))
}

/** Runs `body`, turning client errors into coded CLI errors (exit 1: the host or the network, not usage). */
export async function withClientErrorCodes(body: () => Promise<number>): Promise<number> {
  try {
    return await body()
  } catch (error) {
    if (error instanceof DirectConnectError) throw new CliError(error.code, error.message, 1)
    throw error
  }
}
