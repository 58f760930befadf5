/**
 * Wakes a waiting subscription loop. A wake that comes between the loop's last fetch and its
 * wait is not lost: the loop notes the generation before fetching and `wait` returns at once
 * when it has moved.
 */
export class Waker {
  private generation = 0;
  private waiters = new Set<() => void>();

  get current(): number {
    return this.generation;
  }

  wake(): void {
    this.generation++;
    const ws = this.waiters;
    this.waiters = new Set();
    for (const w of ws) w();
  }

  /** Resolves on the next wake after `seen`, or after `timeoutMs` (the poll fallback). */
  wait(seen: number, timeoutMs: number): Promise<void> {
    if (this.generation !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }
}
