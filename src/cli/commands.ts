import { agentCommand } from "./agentCommand.js"
import { attachCommand } from "./attachCommand.js"
import type { CliCommand } from "./cliCommand.js"
import { connectCommand } from "./connectCommand.js"
import { cronCommand } from "./cronCommand.js"
import { execCommand } from "./execCommand.js"
import { pullCommand } from "./pullCommand.js"
import { remoteCommand } from "./remoteCommand.js"
import { replayCommand } from "./replayCommand.js"
import { serveCommand } from "./serveCommand.js"
import { sessionsCommand } from "./sessionsCommand.js"
import { triggerCommand } from "./triggerCommand.js"

/** Every `agenthost` command, in the order `--help` lists them. */
export const commands: ReadonlyArray<CliCommand> = [
  serveCommand,
  agentCommand,
  execCommand,
  connectCommand,
  sessionsCommand,
  remoteCommand,
  attachCommand,
  pullCommand,
  cronCommand,
  triggerCommand,
  replayCommand,
]
