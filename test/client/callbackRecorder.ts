import type { PermissionRequest, SdkMessage } from "../../src/client/clientMessages.js"
import type { DirectConnectError } from "../../src/client/directConnectError.js"
import type { DirectConnectCallbacks } from "../../src/client/directConnectSessionManager.js"

/** Records every callback of a manager and lets a test await a condition over what was recorded. */
export class CallbackRecorder {
  readonly messages: SdkMessage[] = []
  readonly permissions: Array<{ readonly requestId: string; readonly request: PermissionRequest }> = []
  readonly cancelled: string[] = []
  readonly errors: DirectConnectError[] = []
  readonly connected: Array<{ readonly reconnect: boolean; readonly afterSeq: number }> = []
  readonly disconnected: Array<{ readonly reason: string; readonly willReconnect: boolean }> = []
  /** Every callback in order, as `kind` strings, for ordering assertions. */
  readonly log: string[] = []
  private waiters: Array<{ readonly check: () => boolean; readonly resolve: () => void }> = []
  /** Runs after a permission request is recorded (tests answer from here). */
  onPermission: ((requestId: string, request: PermissionRequest) => void) | undefined

  readonly callbacks: DirectConnectCallbacks = {
    onMessage: (message) => {
      this.messages.push(message)
      this.push(`message:${message.type}${typeof message.subtype === "string" ? `/${message.subtype}` : ""}`)
    },
    onPermissionRequest: (request, requestId) => {
      this.permissions.push({ requestId, request })
      this.push(`permission:${requestId}`)
      this.onPermission?.(requestId, request)
    },
    onPermissionCancelled: (requestId) => {
      this.cancelled.push(requestId)
      this.push(`cancelled:${requestId}`)
    },
    onConnected: (info) => {
      this.connected.push(info)
      this.push(`connected:${info.afterSeq}`)
    },
    onDisconnected: (reason, info) => {
      this.disconnected.push({ reason, willReconnect: info.willReconnect })
      this.push(`disconnected:${info.willReconnect ? "retry" : "final"}`)
    },
    onError: (error) => {
      this.errors.push(error)
      this.push(`error:${error.code}`)
    },
  }

  /** Resolves once `check()` holds (checked now and after every callback). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ check, resolve }))
  }

  /** Seqs of the forwarded messages, in delivery order. */
  seqs(): number[] {
    return this.messages.map((m) => m.seq as number)
  }

  results(): SdkMessage[] {
    return this.messages.filter((m) => m.type === "result")
  }

  private push(entry: string): void {
    this.log.push(entry)
    const ready = this.waiters.filter((w) => w.check())
    this.waiters = this.waiters.filter((w) => !ready.includes(w))
    for (const w of ready) w.resolve()
  }
}
