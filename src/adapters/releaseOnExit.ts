/** Signals whose default action ends the process, so a holder must release before it goes. */
export const RELEASE_SIGNALS: ReadonlyArray<NodeJS.Signals> = ["SIGINT", "SIGTERM", "SIGHUP"]

const pending = new Set<() => void>()
let installed = false

function runAll(): void {
  for (const release of [...pending]) {
    pending.delete(release)
    try {
      release()
    } catch (error) {
      // Nothing can be retried while the process ends; say so, and leave the lock to stale recovery.
      process.stderr.write(`agenthost: releasing the scheduler lock at exit failed: ${String(error)}\n`)
    }
  }
}

function onExit(): void {
  runAll()
}

function onSignal(signal: NodeJS.Signals): void {
  // Another listener owns this signal (a CLI whose Ctrl-C interrupts a turn, say): the process goes on
  // living, and still holds the lock. If it exits later, the exit hook releases.
  if (process.listenerCount(signal) > 1) return
  runAll()
  uninstall()
  // With our listener gone the default action is back: re-raising ends the process by the signal, so
  // the parent sees the usual 128+n.
  process.kill(process.pid, signal)
}

function install(): void {
  if (installed) return
  installed = true
  process.on("exit", onExit)
  for (const signal of RELEASE_SIGNALS) process.on(signal, onSignal)
}

function uninstall(): void {
  if (!installed) return
  installed = false
  process.off("exit", onExit)
  for (const signal of RELEASE_SIGNALS) process.off(signal, onSignal)
}

/**
 * Runs `release` (synchronously) when the process exits, or on SIGINT/SIGTERM/SIGHUP when nobody else
 * handles the signal, then lets the signal end the process. One set of process listeners serves every
 * registration. Returns the function that unregisters `release` without running it.
 */
export function releaseOnProcessExit(release: () => void): () => void {
  pending.add(release)
  install()
  return () => {
    pending.delete(release)
    if (pending.size === 0) uninstall()
  }
}
