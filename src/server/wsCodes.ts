/**
 * Stable codes of the errors the host sends a WebSocket client as `{ type: "error", error: { code, message } }`
 * frames or as close reasons (docs/server.md, docs/errors.md). One module, like ws's constants.
 */
export const WS_ERROR = {
  NotJson: "AGH_WS_NOT_JSON",
  BadShape: "AGH_WS_BAD_SHAPE",
  UnknownType: "AGH_WS_UNKNOWN_TYPE",
  FrameTooLarge: "AGH_WS_FRAME_TOO_LARGE",
  Binary: "AGH_WS_BINARY",
  BadUtf8: "AGH_WS_BAD_UTF8",
  ProtocolError: "AGH_WS_PROTOCOL_ERROR",
  TooManyBadFrames: "AGH_WS_TOO_MANY_BAD_FRAMES",
  SlowClient: "AGH_WS_SLOW_CLIENT",
  PermissionAlreadyAnswered: "AGH_WS_PERMISSION_ALREADY_ANSWERED",
  PermissionUnknown: "AGH_WS_PERMISSION_UNKNOWN",
  SessionError: "AGH_WS_SESSION_ERROR",
  HostShutdown: "AGH_HOST_SHUTDOWN",
} as const

/** Close codes the host uses (RFC 6455 §7.4 plus one private code). */
export const WS_CLOSE = {
  /** The session ended; every message was sent first. */
  Normal: 1000,
  /** The host is shutting down. */
  GoingAway: 1001,
  /** Invalid UTF-8 in a text frame (closed by ws itself). */
  InvalidPayload: 1007,
  /** Too many bad frames. */
  PolicyViolation: 1008,
  /** A frame over `max_frame_bytes`. */
  TooBig: 1009,
  /** The host failed to attach the client (a bug); it may retry. */
  InternalError: 1011,
  /** The client's unsent backlog went over `ws_max_buffered_bytes`; reconnect with `?after=`. */
  SlowClient: 4008,
} as const
