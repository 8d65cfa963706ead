import { chmodSync, closeSync, constants, mkdirSync, openSync, statSync, writeSync } from "node:fs"
import { join } from "node:path"
import { loadServerConfig, renderDefaultConfigFile, type ServerConfig } from "./config.js"
import { HostSetupError } from "./hostSetupError.js"
import { ensureToken } from "./token.js"

/** Where the host keeps its state under `<home>` (SPEC §8). */
export interface HomeLayout {
  readonly home: string
  readonly tokenPath: string
  readonly configPath: string
  readonly logsDir: string
  readonly sessionsDir: string
}

/** The paths under `<home>`, without touching the disk. */
export function homeLayout(home: string): HomeLayout {
  return {
    home,
    tokenPath: join(home, "token"),
    configPath: join(home, "config.json"),
    logsDir: join(home, "logs"),
    sessionsDir: join(home, "sessions"),
  }
}

/** A prepared home: its layout, the token, the validated config and what this start created. */
export interface PreparedHome extends HomeLayout {
  readonly token: string
  readonly config: ServerConfig
  /** Files and directories this call created (empty on a machine that already had them). */
  readonly created: ReadonlyArray<string>
}

function ensureDir(path: string, created: string[]): void {
  try {
    if (mkdirSync(path, { recursive: true, mode: 0o700 }) !== undefined) created.push(path)
    if (!statSync(path).isDirectory()) throw new Error("not a directory")
  } catch (cause) {
    throw new HostSetupError({
      reason: "HomeUnusable",
      message: `cannot use directory ${path}: ${(cause as Error).message}`,
      path,
      cause,
    })
  }
}

/** Writes the default config unless one exists (`O_EXCL`: a person's config is never overwritten). */
function ensureConfigFile(path: string, home: string, created: string[]): void {
  let fd: number
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") return
    throw new HostSetupError({
      reason: "HomeUnusable",
      message: `cannot create ${path}: ${(cause as Error).message}`,
      path,
      cause,
    })
  }
  try {
    writeSync(fd, renderDefaultConfigFile(home))
  } finally {
    closeSync(fd)
  }
  created.push(path)
}

/**
 * Makes `<home>` ready for `agenthost serve`: on a fresh machine it creates `<home>` (0700), the token (0600),
 * a `config.json` with every default spelled out, `logs/`, `sessions/` and the first work root; on later starts
 * it only reads and validates. Throws {@link HostSetupError}.
 */
export function prepareHome(home: string): PreparedHome {
  const created: string[] = []
  const layout = homeLayout(home)
  const homeExisted = (() => {
    try {
      return statSync(home).isDirectory()
    } catch {
      return false
    }
  })()
  ensureDir(home, created)
  // mkdir's mode is masked by the umask; a home we made must end up 0700 regardless.
  if (!homeExisted) chmodSync(home, 0o700)
  const { token, created: tokenCreated } = ensureToken(layout.tokenPath)
  if (tokenCreated) created.push(layout.tokenPath)
  ensureConfigFile(layout.configPath, home, created)
  ensureDir(layout.logsDir, created)
  ensureDir(layout.sessionsDir, created)
  const config = loadServerConfig(layout.configPath, home)
  const [firstRoot] = config.work_roots
  if (firstRoot !== undefined) ensureDir(firstRoot, created)
  return { ...layout, token, config, created }
}
