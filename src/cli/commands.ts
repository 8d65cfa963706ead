import type { CliCommand } from "./cliCommand.js"

/**
 * A command by name, loaded only when it runs: every session spawns `agenthost agent`, which must not pay for
 * importing the server, the client and the scheduler it never uses.
 */
export interface CommandEntry {
  readonly name: string
  readonly load: () => Promise<CliCommand>
}

/** Every `agenthost` command, in the order `--help` lists them. */
export const commands: ReadonlyArray<CommandEntry> = [
  { name: "serve", load: async () => (await import("./serveCommand.js")).serveCommand },
  { name: "agent", load: async () => (await import("./agentCommand.js")).agentCommand },
  { name: "exec", load: async () => (await import("./execCommand.js")).execCommand },
  { name: "connect", load: async () => (await import("./connectCommand.js")).connectCommand },
  { name: "sessions", load: async () => (await import("./sessionsCommand.js")).sessionsCommand },
  { name: "remote", load: async () => (await import("./remoteCommand.js")).remoteCommand },
  { name: "attach", load: async () => (await import("./attachCommand.js")).attachCommand },
  { name: "pull", load: async () => (await import("./pullCommand.js")).pullCommand },
  { name: "cron", load: async () => (await import("./cronCommand.js")).cronCommand },
  { name: "trigger", load: async () => (await import("./triggerCommand.js")).triggerCommand },
  { name: "replay", load: async () => (await import("./replayCommand.js")).replayCommand },
]
