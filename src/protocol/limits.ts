/** Default cap on one stream-json line: large tool results fit, a runaway peer does not exhaust memory. */
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
