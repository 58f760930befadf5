/**
 * Which offset of a partition may be committed. Records of a partition are received in
 * offset order but settled in any order (handlers run concurrently, keys interleave); Kafka
 * keeps one committed offset per partition, and everything below it counts as done. So the
 * offset committed is the first one not yet settled: a later record settled early waits
 * for the earlier ones, and a consumer that dies redelivers from the first unsettled record.
 * Pure, no client: one per assigned partition and group generation.
 */
export class PartitionOffsets {
  /** Offsets received and not yet passed by the commit point, in receipt (= offset) order. */
  private readonly queue: bigint[] = [];
  private head = 0;
  private readonly settled = new Set<bigint>();
  /** The next offset to commit (first unsettled, or one past the last received). */
  private next: bigint | undefined;
  /** The last offset handed to commit(), to commit only when it moved. */
  private committed: bigint | undefined;
  /** Set when the partition was revoked (a rebalance): nothing more is committed for it. */
  revoked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** The highest offset received. */
  private last: bigint | undefined;

  /**
   * A record was received. False when it does not come after the last one: the client went
   * back (it refetches from the committed offset after a rebalance or a lost connection),
   * and the caller starts a new tracker, since this one's order no longer holds.
   */
  received(offset: bigint): boolean {
    if (this.last !== undefined && offset <= this.last) return false;
    this.last = offset;
    this.queue.push(offset);
    return true;
  }

  /** A record was settled (acked, dead-lettered, retried elsewhere, skipped). */
  settle(offset: bigint): void {
    this.settled.add(offset);
    while (this.head < this.queue.length && this.settled.has(this.queue[this.head]!)) {
      const o = this.queue[this.head++]!;
      this.settled.delete(o);
      this.next = o + 1n;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Records received and not yet settled. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** The offset to commit now, or undefined when the commit point did not move. */
  due(): bigint | undefined {
    if (this.revoked || this.next === undefined || this.next === this.committed) return undefined;
    return this.next;
  }

  /** The commit of `offset` went through (or is on its way: a failure calls `failed`). */
  committing(offset: bigint): void {
    this.committed = offset;
  }

  /** A commit failed: try it again at the next flush. */
  failed(offset: bigint): void {
    if (this.committed === offset) this.committed = undefined;
  }
}
