/**
 * `npm run demo -- --event-sourcing [--store postgres|nats]`: the payments service keeps each
 * account as an event-sourced aggregate. Its stream is `payments.account.<accountId>` and holds
 * the generated transaction events; the contract's `x-aggregate` binding (the descriptors'
 * `aggregate`, generated `eventSourced`) is what ties them to it, so the store refuses an event
 * whose accountId is not the stream's.
 *
 *   appends      deposits and payments, each decided on the state folded from the stream
 *   conflict     two writers read the same version; the second append is refused with the
 *                version the stream is really at, and withOptimisticRetry re-reads and retries
 *   replay       loadAggregate folds the history, takes a snapshot, then folds from it
 *   projection   balances per account in PostgreSQL (checkpoint and writes in one transaction),
 *                rebuilt from position 0 into a new generation while the old one serves
 *
 * Everything lives in a schema (and, with `--store nats`, JetStream streams) made for this run
 * and dropped at its end, so runs never see each other's events.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  createEventStore,
  JetStreamEventStoreBackend,
  PostgresEventStoreBackend,
  WrongAggregateError,
  WrongExpectedVersionError,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from 'event-contracts/runtime/event-store';
// Aggregates, snapshots and projections are not exported by `event-contracts/runtime/event-store`
// yet, so the demo takes them from the sources; move these three to the entry point once it has them.
import { appendToAggregate, defineReducer, loadAggregate, withOptimisticRetry } from '../../src/runtime/event-store/aggregate.js';
import { createProjectionRunner, type ProjectionTx } from '../../src/runtime/event-store/projection.js';
import { createPgSnapshotStore } from '../../src/runtime/event-store/snapshot.js';
import {
  eventSourced,
  TransactionCancelledV1Event,
  TransactionCompletedV1Event,
  TransactionCreatedV1Event,
  TransactionFailedV1Event,
  type TransactionCreatedV1,
} from '../../generated/index.js';

type Log = (who: string, text: string) => void;

const ACCOUNTS = eventSourced['payments.account'];
const streamOf = (accountId: string) => `${ACCOUNTS.streamIdPrefix}${accountId}`;
const newAccountId = () => `acc_${randomBytes(10).toString('hex')}`;
const tag = () => randomBytes(4).toString('hex');

// ---------------------------------------------------------------------------------------
// The account aggregate: its state is the fold of its stream
// ---------------------------------------------------------------------------------------

interface Account {
  /** Settled balance in cents: money is never a binary float. */
  balanceCents: number;
  /** Created but not yet completed transactions, with their signed amount in cents. */
  pending: Record<string, number>;
}

const cents = (amount: string) => Math.round(Number(amount) * 100);
const euros = (c: number) => `${c < 0 ? '-' : ''}${(Math.abs(c) / 100).toFixed(2)} EUR`;
const signedCents = (t: Pick<TransactionCreatedV1, 'direction' | 'amount'>) => (t.direction === 'debit' ? -1 : 1) * cents(t.amount.amount);

function settle(state: Account, transactionId: string, by: (pendingCents: number) => number): Account {
  const { [transactionId]: amount = 0, ...pending } = state.pending;
  return { balanceCents: state.balanceCents + by(amount), pending };
}

const account = defineReducer<Account>({ schemaVersion: 'demo-account@1', initial: { balanceCents: 0, pending: {} } })
  .on(TransactionCreatedV1Event, (s, t) => ({ ...s, pending: { ...s.pending, [t.transactionId]: signedCents(t) } }))
  .on(TransactionCompletedV1Event, (s, t) => settle(s, t.transactionId, (amount) => amount))
  .on(TransactionCancelledV1Event, (s, t) => settle(s, t.transactionId, () => 0))
  // A failure with a next attempt stays pending; without one the transaction is over.
  .on(TransactionFailedV1Event, (s, t) => (t.nextAttemptAt ? s : settle(s, t.transactionId, () => 0)));

/**
 * The command "move money": a created and a completed transaction, appended together. A debit
 * the settled balance cannot cover is refused, which is why every try must decide on a fresh read.
 */
function transfer(state: Account, accountId: string, direction: 'credit' | 'debit', amount: string): NewEvent[] {
  if (direction === 'debit' && state.balanceCents < cents(amount)) throw new Error(`insufficient funds: ${euros(state.balanceCents)} < ${amount} EUR`);
  const transactionId = randomUUID();
  const money = { amount, currency: 'EUR' as const };
  const now = new Date().toISOString();
  return [
    {
      event: TransactionCreatedV1Event,
      data: { eventId: randomUUID(), transactionId, accountId, userId: randomUUID(), type: direction === 'credit' ? 'transfer' : 'payment', direction, amount: money, createdAt: now },
    },
    { event: TransactionCompletedV1Event, data: { eventId: randomUUID(), transactionId, accountId, amount: money, processor: 'internal_ledger', completedAt: now } },
  ];
}

// ---------------------------------------------------------------------------------------
// The read model: balances per account, written by a projection runner
// ---------------------------------------------------------------------------------------

async function prepareBalances(tx: ProjectionTx): Promise<void> {
  await tx.query(`CREATE TABLE ${tx.table('account_balances')} (account_id text PRIMARY KEY, balance_cents bigint NOT NULL, version integer NOT NULL)`);
  await tx.query(`CREATE TABLE ${tx.table('pending_transactions')} (transaction_id text PRIMARY KEY, signed_cents bigint NOT NULL)`);
}

async function retireBalances(tx: ProjectionTx): Promise<void> {
  await tx.query(`DROP TABLE IF EXISTS ${tx.table('account_balances')}, ${tx.table('pending_transactions')}`);
}

/** The same rules as the aggregate's reducer, kept in SQL: one event, one transaction with the checkpoint. */
async function projectBalance(event: StoredEvent, tx: ProjectionTx): Promise<void> {
  const data = event.data as { accountId: string; transactionId: string; nextAttemptAt?: string };
  const pending = tx.table('pending_transactions');
  let delta = 0;
  if (event.type === TransactionCreatedV1Event.type) {
    await tx.query(`INSERT INTO ${pending} VALUES ($1, $2)`, [data.transactionId, signedCents(event.data as TransactionCreatedV1)]);
  } else if (event.type === TransactionCompletedV1Event.type || event.type === TransactionCancelledV1Event.type || (event.type === TransactionFailedV1Event.type && !data.nextAttemptAt)) {
    const { rows } = await tx.query<{ signed_cents: string }>(`DELETE FROM ${pending} WHERE transaction_id = $1 RETURNING signed_cents`, [data.transactionId]);
    if (event.type === TransactionCompletedV1Event.type) delta = Number(rows[0]?.signed_cents ?? 0);
  }
  await tx.query(
    `INSERT INTO ${tx.table('account_balances')} AS b VALUES ($1, $2, $3)
     ON CONFLICT (account_id) DO UPDATE SET balance_cents = b.balance_cents + EXCLUDED.balance_cents, version = EXCLUDED.version`,
    [data.accountId, delta, event.streamVersion],
  );
}

// ---------------------------------------------------------------------------------------
// The demo
// ---------------------------------------------------------------------------------------

export interface EventSourcingDemoOptions {
  readonly store: 'postgres' | 'nats';
  readonly natsServer: string;
}

export async function runEventSourcingDemo(log: Log, options: EventSourcingDemoOptions): Promise<void> {
  // The PG* variables (or the local test database) say where PostgreSQL is.
  const pool = new pg.Pool({ host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres', database: process.env.PGDATABASE ?? 'test', max: 6 });
  const run = tag();
  const schema = `demo_es_${run}`;
  const jetstream = options.store === 'nats' ? { streamPrefix: `ESDEMO-${run}`, subjectPrefix: `$ESDEMO_${run}` } : undefined;
  let store: EventStore | undefined;
  try {
    const backend = jetstream
      ? await JetStreamEventStoreBackend.connect({ servers: options.natsServer, ...jetstream, storage: 'memory' })
      : await PostgresEventStoreBackend.connect({ pool, schema });
    store = await createEventStore({ backend, events: ACCOUNTS.events, source: 'payments-service' });
    log('event-store', jetstream ? `JetStream streams ${jetstream.streamPrefix}_*, snapshots and read model in PostgreSQL schema ${schema}` : `PostgreSQL schema ${schema}: events, snapshots, read model`);
    await demo(store, pool, schema, log);
  } finally {
    await store?.close().catch(() => undefined);
    if (jetstream) await dropJetStreamStreams(options.natsServer, jetstream.streamPrefix);
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
    log('event-store', `dropped schema ${schema}${jetstream ? ` and streams ${jetstream.streamPrefix}_*` : ''}`);
  }
}

async function demo(store: EventStore, pool: pg.Pool, schema: string, log: Log): Promise<void> {
  const snapshots = createPgSnapshotStore({ pool, schema });
  await snapshots.migrate();
  const projection = createProjectionRunner({
    store,
    pool,
    name: 'account-balances',
    filter: { aggregates: ['payments.account'] },
    schema,
    readModelSchema: schema,
    // Small batches, so the rebuild below reports its progress more than once.
    batchSize: 25,
    prepare: prepareBalances,
    retire: retireBalances,
    handle: projectBalance,
    onDeadLetter: (d) => log('projection', `dead letter ${d.eventType}@${d.eventVersion} at ${d.checkpoint}: ${d.detail}`),
  });
  await projection.migrate();
  await projection.start();
  try {
    await scenario(store, snapshots, projection, pool, log);
  } finally {
    await projection.stop();
  }
}

type Snapshots = ReturnType<typeof createPgSnapshotStore>;
type Projection = ReturnType<typeof createProjectionRunner>;

async function scenario(store: EventStore, snapshots: Snapshots, projection: Projection, pool: pg.Pool, log: Log): Promise<void> {
  const accountId = newAccountId();
  const stream = streamOf(accountId);

  // Appends: each command loads the aggregate, decides, and appends at the version it read.
  for (const [direction, amount] of [['credit', '100.00'], ['debit', '30.00']] as const) {
    const r = await appendToAggregate(store, stream, account, (s) => transfer(s, accountId, direction, amount));
    log('payments', `${direction} ${amount} EUR: appended transaction.created + transaction.completed to ${stream} (version ${r.version})`);
  }

  // The aggregate binding: an event of another account never lands in this account's stream.
  const stray = transfer({ balanceCents: 0, pending: {} }, newAccountId(), 'credit', '1000000.00');
  try {
    await store.append(stream, stray);
    throw new Error(`the store appended another account's event to ${stream}`);
  } catch (error) {
    if (!(error instanceof WrongAggregateError)) throw error;
    log('payments', `refused: WrongAggregateError: ${error.message}`);
  }

  // A conflict: both writers read the same version before either appends.
  const bothRead = barrier(2);
  await Promise.all(
    (['writer-1', 'writer-2'] as const).map((writer, i) =>
      withOptimisticRetry(async (attempt) => {
        const loaded = await loadAggregate(store, stream, account);
        if (attempt === 1) await bothRead();
        const events = transfer(loaded.state, accountId, 'debit', i === 0 ? '20.00' : '15.00');
        try {
          const r = await store.append(stream, events, { expectedVersion: loaded.version });
          log('payments', `${writer} appended at expected version ${loaded.version} (attempt ${attempt}): version ${r.version}`);
        } catch (error) {
          if (error instanceof WrongExpectedVersionError) {
            log('payments', `${writer} conflict: WrongExpectedVersionError, expected version ${error.expected}, actual version ${error.actual}; withOptimisticRetry re-reads and retries`);
          }
          throw error;
        }
      }),
    ),
  );

  // Other accounts, so that the projection's rebuild has some history to replay.
  const others = Array.from({ length: 40 }, newAccountId);
  for (let i = 0; i < others.length; i += 8) {
    await Promise.all(others.slice(i, i + 8).map((id, j) => appendToAggregate(store, streamOf(id), account, (s) => transfer(s, id, 'credit', `${10 + i + j}.00`))));
  }
  log('payments', `${others.length} more accounts opened with a deposit (${others.length * 2} events)`);

  // Replay: the first load folds every event and stores a snapshot; the next starts from it.
  const policy = { store: snapshots, every: 5 };
  const full = await loadAggregate(store, stream, account, { snapshots: policy });
  log('replay', `${stream}: folded ${full.eventsFolded} events, balance ${euros(full.state.balanceCents)} at version ${full.version}${full.snapshotTaken ? `, snapshot taken at version ${full.version}` : ''}`);
  await appendToAggregate(store, stream, account, (s) => transfer(s, accountId, 'credit', '5.00'), { snapshots: policy });
  const replay = await loadAggregate(store, stream, account, { snapshots: policy });
  const check = await loadAggregate(store, stream, account);
  if (check.state.balanceCents !== replay.state.balanceCents) throw new Error(`the fold from the snapshot (${replay.state.balanceCents}) differs from the full fold (${check.state.balanceCents})`);
  log('replay', `${stream}: from the snapshot at version ${replay.fromSnapshot ?? '-'} + ${replay.eventsFolded} events, balance ${euros(replay.state.balanceCents)} at version ${replay.version} (a fold from the first event agrees)`);

  // The projection follows the store live; wait until it has applied the account's last event.
  const readBalance = async (table: string) =>
    (await pool.query<{ balance_cents: string; version: number }>(`SELECT balance_cents, version FROM ${table} WHERE account_id = $1`, [accountId])).rows[0];
  const liveTable = (await projection.activeTable('account_balances'))!;
  const live = await waitFor(async () => {
    const row = await readBalance(liveTable);
    return row && row.version === replay.version ? row : undefined;
  }, 'the projection to apply the last event');
  const same = Number(live.balance_cents) === replay.state.balanceCents;
  log('projection', `${liveTable}: ${accountId} ${euros(Number(live.balance_cents))} at version ${live.version} (${same ? 'equals' : 'DIFFERS FROM'} the replayed state)`);
  if (!same) throw new Error('the projection and the replay disagree');

  // Rebuild from position 0 into a new generation; the active one keeps serving until the switch.
  log('projection', `rebuild from position 0 into a new generation; ${liveTable} serves meanwhile`);
  let nextMark = 25;
  let servedDuring: Promise<string> | undefined;
  const rebuilt = await projection.rebuild({
    onProgress: (p) => {
      servedDuring ??= projection.activeTable('account_balances').then(async (t) => `${t}: ${euros(Number((await readBalance(t!))?.balance_cents))}`);
      const percent = p.total ? Math.min(100, Math.floor((p.done * 100) / p.total)) : 100;
      if (p.phase === 'switched') return log('projection', `rebuild generation ${p.generation}: switched to it in one transaction`);
      if (percent < nextMark) return;
      while (nextMark <= percent) nextMark += 25;
      log('projection', `rebuild generation ${p.generation}: ${p.done}/${p.total ?? '?'} events (${percent}%)`);
    },
  });
  log('projection', `while rebuilding, reads were served by ${await servedDuring}`);
  const newTable = (await projection.activeTable('account_balances'))!;
  const after = await readBalance(newTable);
  const agrees = Number(after?.balance_cents) === replay.state.balanceCents;
  log('projection', `generation ${rebuilt.generation} active (${rebuilt.events} events, ${rebuilt.deadLetters} dead letters): ${newTable} ${accountId} ${euros(Number(after?.balance_cents))} (${agrees ? 'equals' : 'DIFFERS FROM'} the replayed state)`);
  if (!agrees) throw new Error('the rebuilt projection and the replay disagree');
}

/** Resolves for each caller once `n` callers have arrived. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived === n) open();
    return all;
  };
}

/** Polls `probe` until it returns a value (bounded: a demo that hangs explains nothing). */
async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function dropJetStreamStreams(servers: string, streamPrefix: string): Promise<void> {
  const [{ connect }, { jetstreamManager }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) if (name.startsWith(`${streamPrefix}_`)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
