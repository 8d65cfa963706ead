/**
 * The built-in agent's defaults and permission modes, in a module with no imports so the CLI can print
 * help and parse flags without loading the agent (and Effect) at all.
 */

/** Defaults of the Bash tool; each can be changed by a flag or an environment variable (docs/agent.md). */
export const BASH_DEFAULTS = {
  timeoutMs: 120_000,
  maxOutputBytes: 1024 * 1024,
  killGraceMs: 2_000,
} as const

/** Permission modes the built-in agent obeys; `acceptEdits` asks for Bash like `default` does. */
export const SUPPORTED_PERMISSION_MODES = ["default", "acceptEdits", "dontAsk", "bypassPermissions"] as const
/** One of {@link SUPPORTED_PERMISSION_MODES}. */
export type SupportedPermissionMode = (typeof SUPPORTED_PERMISSION_MODES)[number]

/** Narrows a mode string to one the built-in agent obeys. */
export const isSupportedPermissionMode = (mode: string): mode is SupportedPermissionMode =>
  (SUPPORTED_PERMISSION_MODES as ReadonlyArray<string>).includes(mode)
