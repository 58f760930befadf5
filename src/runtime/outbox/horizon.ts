/**
 * The commit horizon: the highest position below which every row is visible or never will
 * be. Positions are drawn at commit under a shared advisory lock held until the commit has
 * ended (see migrate.ts), so: read the sequence's last value H, then the transactions that
 * hold that lock. A writer that drew a position up to H drew it after taking the lock, so
 * at that moment it is either done (its rows visible, or gone for good) or among the
 * holders. Once none of those holders holds the lock any more, H is safe. The relay never
 * blocks a writer to find this out; it only waits (a batch or a notification later).
 */
import type { OutboxLocation } from './names.js';
import { LOCK } from './names.js';
import type { Queryable } from './sql-client.js';

export class CommitHorizon {
  /** Everything up to here is settled. */
  private safe = '0';
  /** A higher horizon, safe once these committing transactions are gone. */
  private pending: { h: string; holders: string[] } | undefined;
  private readonly lastValueSql: string;
  private readonly holdersSql = `SELECT virtualtransaction AS vxid FROM pg_locks
    WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid AND objsubid = 2 AND granted`;

  /** `lockKey`: the second key (signed int4) of the COMMIT lock, the one the trigger takes. */
  constructor(
    location: OutboxLocation,
    private readonly lockKey: number,
  ) {
    this.lastValueSql = `SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::text AS h FROM ${location.positionSequence}`;
  }

  /** Committing transactions the next horizon waits for (0 when it is current). */
  get waitingOn(): number {
    return this.pending?.holders.length ?? 0;
  }

  /** Moves the horizon as far as is safe now and returns it (a bigint as text). */
  async advance(db: Queryable): Promise<string> {
    // pg_locks shows the int4 key as an unsigned oid.
    const keys = [LOCK.COMMIT, String(this.lockKey >>> 0)];
    if (this.pending) {
      const now = (await db.query<{ vxid: string }>(this.holdersSql, keys)).rows.map((r) => r.vxid);
      const still = new Set(now);
      this.pending.holders = this.pending.holders.filter((v) => still.has(v));
      if (this.pending.holders.length > 0) return this.safe;
      this.safe = this.pending.h;
      this.pending = undefined;
    }
    // Order matters: H first, then the holders (see the comment at the top).
    const h = (await db.query<{ h: string }>(this.lastValueSql)).rows[0]!.h;
    if (h === this.safe) return this.safe;
    const holders = (await db.query<{ vxid: string }>(this.holdersSql, keys)).rows.map((r) => r.vxid);
    if (holders.length === 0) this.safe = h;
    else this.pending = { h, holders };
    return this.safe;
  }
}
