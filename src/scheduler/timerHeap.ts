/** One entry of a {@link TimerHeap}: its due time, arming order and value. `index` is the heap's business. */
export interface HeapEntry<T> {
  readonly due: number
  /** Arming order: ties on `due` pop in the order they were pushed, as timers do. */
  readonly seq: number
  readonly value: T
  /** Position in the heap array; -1 once popped or removed. */
  index: number
}

/**
 * A binary min-heap keyed by `(due, seq)`, indexed so that any entry — not only the head — is removed in
 * O(log n). That is what cancelling a timer needs: a cron task that is deleted, reconfigured or disarmed
 * cancels its pending fire, and with 100k armed tasks a linear scan per cancel would not do.
 *
 * @example
 * const heap = new TimerHeap<string>()
 * const a = heap.push(20, "a")
 * heap.push(10, "b")
 * heap.remove(a)
 * heap.pop()?.value // "b"
 */
export class TimerHeap<T> {
  private readonly items: HeapEntry<T>[] = []
  private nextSeq = 0

  get size(): number {
    return this.items.length
  }

  /** The earliest entry, without removing it. */
  peek(): HeapEntry<T> | undefined {
    return this.items[0]
  }

  push(due: number, value: T): HeapEntry<T> {
    const entry: HeapEntry<T> = { due, seq: this.nextSeq++, value, index: this.items.length }
    this.items.push(entry)
    this.siftUp(entry.index)
    return entry
  }

  /** Removes and returns the earliest entry. */
  pop(): HeapEntry<T> | undefined {
    const head = this.items[0]
    if (head !== undefined) this.removeAt(0)
    return head
  }

  /** Removes `entry` if it is still in this heap; false when it was popped or removed already. */
  remove(entry: HeapEntry<T>): boolean {
    if (entry.index < 0 || this.items[entry.index] !== entry) return false
    this.removeAt(entry.index)
    return true
  }

  /** Empties the heap. */
  clear(): void {
    for (const entry of this.items) entry.index = -1
    this.items.length = 0
  }

  private removeAt(index: number): void {
    const removed = this.items[index] as HeapEntry<T>
    const last = this.items.pop() as HeapEntry<T>
    removed.index = -1
    if (last === removed) return
    this.items[index] = last
    last.index = index
    // The entry moved into the hole may belong above or below it.
    this.siftUp(index)
    this.siftDown(last.index)
  }

  private less(a: HeapEntry<T>, b: HeapEntry<T>): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq)
  }

  private swap(i: number, j: number): void {
    const a = this.items[i] as HeapEntry<T>
    const b = this.items[j] as HeapEntry<T>
    this.items[i] = b
    this.items[j] = a
    b.index = i
    a.index = j
  }

  private siftUp(start: number): void {
    let i = start
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(this.items[i] as HeapEntry<T>, this.items[parent] as HeapEntry<T>)) return
      this.swap(i, parent)
      i = parent
    }
  }

  private siftDown(start: number): void {
    let i = start
    const n = this.items.length
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) return
      const right = left + 1
      let child = left
      if (right < n && this.less(this.items[right] as HeapEntry<T>, this.items[left] as HeapEntry<T>)) {
        child = right
      }
      if (!this.less(this.items[child] as HeapEntry<T>, this.items[i] as HeapEntry<T>)) return
      this.swap(i, child)
      i = child
    }
  }
}
