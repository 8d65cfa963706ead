/**
 * Counts a client's bad frames in a sliding time window. A client that makes a mistake now and then is told
 * about each one; one that keeps sending garbage (more than `max` within `windowMs`) is disconnected.
 * Memory is bounded: at most `max + 1` timestamps are kept.
 */
export class BadFrameWindow {
  private readonly times: number[] = []

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Records a bad frame at `now`; true when the client went over the limit. */
  record(now: number): boolean {
    const cutoff = now - this.windowMs
    while (this.times.length > 0 && (this.times[0] ?? 0) <= cutoff) this.times.shift()
    this.times.push(now)
    if (this.times.length > this.max + 1) this.times.shift()
    return this.times.length > this.max
  }

  /** Bad frames inside the window as of the last `record`. */
  get count(): number {
    return this.times.length
  }
}
