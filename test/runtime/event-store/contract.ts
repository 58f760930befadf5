/** A small account contract for the event store tests: descriptors bound to an aggregate, with plain validators. */
import type { EventDescriptor, ValidationResult } from '../../../src/runtime/index.js';

export interface Opened {
  accountId: string;
  owner: string;
}
export interface Deposited {
  accountId: string;
  amount: number;
  n?: number;
}
export interface RenamedV1 {
  accountId: string;
  name: string;
}
export interface RenamedV2 {
  accountId: string;
  first: string;
  last: string;
}

const obj = (d: unknown): d is Record<string, unknown> => typeof d === 'object' && d !== null && !Array.isArray(d);
function check<T>(d: unknown, fields: Record<string, 'string' | 'number'>): ValidationResult<T> {
  if (!obj(d)) return { ok: false, errors: [{ path: '', message: 'must be object' }] };
  const errors = Object.entries(fields)
    .filter(([k, t]) => typeof d[k] !== t)
    .map(([k, t]) => ({ path: '/' + k, message: `must be ${t}` }));
  return errors.length ? { ok: false, errors } : { ok: true, value: d as T };
}

export interface AccountContract {
  readonly domain: string;
  readonly aggregate: string;
  readonly opened: EventDescriptor<Opened>;
  readonly deposited: EventDescriptor<Deposited>;
  readonly renamedV1: EventDescriptor<RenamedV1>;
  readonly renamedV2: EventDescriptor<RenamedV2>;
  /** Declared only at 2.0.0: a stored 1.x has no upcaster. */
  readonly closedV2: EventDescriptor<{ accountId: string }>;
  readonly all: readonly EventDescriptor[];
  readonly upcasters: Record<string, (data: unknown) => unknown>;
  stream(entityId: string): string;
}

export function accountContract(domain: string, aggregate = 'account'): AccountContract {
  const base = { address: `${domain}.${aggregate}.{accountId}`, parameters: ['accountId'], aggregate: { domain, type: aggregate, idField: 'accountId' } } as const;
  const opened: EventDescriptor<Opened> = { ...base, type: `${aggregate}.opened`, version: '1.0.0', validate: (d) => check(d, { accountId: 'string', owner: 'string' }) };
  const deposited: EventDescriptor<Deposited> = { ...base, type: `${aggregate}.deposited`, version: '1.0.0', validate: (d) => check(d, { accountId: 'string', amount: 'number' }) };
  const renamedV1: EventDescriptor<RenamedV1> = { ...base, type: `${aggregate}.renamed`, version: '1.0.0', validate: (d) => check(d, { accountId: 'string', name: 'string' }) };
  const renamedV2: EventDescriptor<RenamedV2> = { ...base, type: `${aggregate}.renamed`, version: '2.0.0', validate: (d) => check(d, { accountId: 'string', first: 'string', last: 'string' }) };
  const closedV2: EventDescriptor<{ accountId: string }> = { ...base, type: `${aggregate}.closed`, version: '2.0.0', validate: (d) => check(d, { accountId: 'string' }) };
  return {
    domain,
    aggregate,
    opened,
    deposited,
    renamedV1,
    renamedV2,
    closedV2,
    all: [opened, deposited, renamedV1, renamedV2, closedV2] as EventDescriptor[],
    upcasters: {
      [`${aggregate}.renamed@1`]: (d) => {
        const v = d as RenamedV1;
        const [first = '', ...rest] = v.name.split(' ');
        return { accountId: v.accountId, first, last: rest.join(' ') };
      },
    },
    stream: (entityId) => `${domain}.${aggregate}.${entityId}`,
  };
}
