/**
 * nats-server permissions from the contract: one user per service in one JetStream account,
 * allowed exactly what its operations need, each grant with the reason it exists:
 *
 * - publish on the subjects it sends (parameters as `*`); requests are sends too;
 * - for each durable consumer group it reads: the JetStream API calls the transport makes
 *   for its own consumers only (`$JS.API.INFO`, `STREAM.NAMES` to find the stream,
 *   `CONSUMER.INFO` / `CONSUMER.CREATE` with its filter subject, `CONSUMER.MSG.NEXT`), the
 *   acks of its consumers (`$JS.ACK.<stream>.<durable>.>`) and its dead-letter subject;
 * - subscribe on core (non-stream) subjects it receives and on requests it answers, with
 *   `allow_responses` for the replies of the latter;
 * - subscribe on its own reply inbox prefix `_INBOX_<service>.>` (JetStream publish acks,
 *   pull deliveries, replies to its requests): the transport is given this prefix;
 * - publish on its audit subject `audit.<service>`.
 *
 * Admin (provisioning, operators) is a separate account, ADMIN, whose one user reaches the
 * EVENTS account's JetStream API and nothing else of it: EVENTS exports `$JS.API.>` to ADMIN
 * alone, ADMIN imports it under NATS_ADMIN_API_PREFIX (pass that as the JetStream API prefix:
 * `provision nats --api-prefix`, provisionNats's `apiPrefix`). The admin can create and change
 * streams and consumers; it cannot publish an event or read one off a subject, since
 * subjects are per account. The audit reader may read the AUDIT stream and nothing else.
 * Passwords are `$VARIABLE` references that nats-server resolves from its environment: no
 * secret is in the contract or the output.
 */
import type { Catalog } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { oneLine } from '../emit/files.js';
import { deadLetterSubject, durableName } from '../runtime/nats/names.js';
import { serviceAccess, type ServiceAccess } from './access.js';
import { AUDIT_STREAM, auditSubject } from './audit-stream.js';

export { AUDIT_STREAM, auditSubject } from './audit-stream.js';

export interface NatsGrant {
  readonly subject: string;
  /** Why the service needs it (an operation id, a consumer group): a comment in the configuration. */
  readonly why: string;
}

export interface NatsAclUser {
  readonly user: string;
  /** The environment variable nats-server reads the password from. */
  readonly passwordVariable: string;
  /** The service's reply inbox prefix (NatsSecurityOptions.inboxPrefix). Absent for the admin. */
  readonly inboxPrefix?: string;
  /** Absent: no restriction (the admin). */
  readonly publish?: readonly NatsGrant[];
  readonly subscribe?: readonly NatsGrant[];
  /** May publish to the reply subject of requests it received (one reply each). */
  readonly allowResponses?: boolean;
  /** The service this user is; absent for the admin and the audit reader. */
  readonly service?: string;
}

export interface NatsAclPlan {
  /** The account the services, the audit reader and the streams live in. */
  readonly account: string;
  readonly users: readonly NatsAclUser[];
  /** The admin's own account: `account`'s JetStream API under `apiPrefix`, nothing else. */
  readonly admin: { readonly account: string; readonly user: NatsAclUser; readonly apiPrefix: string };
}

export const NATS_ACCOUNT = 'EVENTS';
export const NATS_ADMIN_ACCOUNT = 'ADMIN';
export const NATS_ADMIN_USER = 'event-contracts-admin';
/** Where the admin account sees the EVENTS account's JetStream API (nats.js `apiPrefix`). */
export const NATS_ADMIN_API_PREFIX = 'EVENTS.JS.API';
export const NATS_AUDIT_READER = 'audit-reader';

/** `payments-service` → `EC_NATS_PASSWORD_PAYMENTS_SERVICE`. */
export function passwordVariable(user: string): string {
  return `EC_NATS_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/** `payments-service` → `_INBOX_payments-service` (one token: no dots). */
export function inboxPrefix(service: string): string {
  return `_INBOX_${service.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function natsServiceUser(a: ServiceAccess): NatsAclUser {
  const pub = new Map<string, Set<string>>();
  const sub = new Map<string, Set<string>>();
  const grant = (m: Map<string, Set<string>>, subject: string, why: string) => {
    const s = m.get(subject) ?? new Set<string>();
    s.add(why);
    m.set(subject, s);
  };
  const inbox = inboxPrefix(a.service);
  grant(sub, `${inbox}.>`, 'own reply inbox: publish acks, pulled messages, replies');
  grant(pub, auditSubject(a.service), 'audit records');
  for (const s of a.sends) grant(pub, s.subject, `${s.request ? 'request' : 'send'} ${s.operation}`);
  for (const r of a.receives) {
    const why = `receive ${r.operation} (group ${r.group})`;
    if (!r.stream) {
      grant(sub, r.subject, why);
      continue;
    }
    const durable = durableName(r.group, [r.subject], r.subject);
    grant(pub, '$JS.API.INFO', 'JetStream account check');
    grant(pub, '$JS.API.STREAM.NAMES', 'find the stream of a subject it receives');
    grant(pub, `$JS.API.CONSUMER.INFO.${r.stream}.${durable}`, why);
    grant(pub, `$JS.API.CONSUMER.CREATE.${r.stream}.${durable}.${r.subject}`, why);
    grant(pub, `$JS.API.CONSUMER.MSG.NEXT.${r.stream}.${durable}`, why);
    grant(pub, `$JS.ACK.${r.stream}.${durable}.>`, `acks of ${why}`);
    grant(pub, deadLetterSubject(r.group), `dead letters of group ${r.group}`);
  }
  for (const r of a.responds) grant(sub, r.subject, `answer ${r.operation} (group ${r.group})`);
  const list = (m: Map<string, Set<string>>): NatsGrant[] =>
    [...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([subject, why]) => ({ subject, why: [...why].sort().join('; ') }));
  return {
    user: a.service,
    service: a.service,
    passwordVariable: passwordVariable(a.service),
    inboxPrefix: inbox,
    publish: list(pub),
    subscribe: list(sub),
    allowResponses: a.responds.length > 0,
  };
}

export function natsAclPlan(catalog: Catalog): { plan: NatsAclPlan; diagnostics: Diagnostic[] } {
  const { access, diagnostics } = serviceAccess(catalog);
  const reader = inboxPrefix(NATS_AUDIT_READER);
  const users: NatsAclUser[] = [
    {
      user: NATS_AUDIT_READER,
      passwordVariable: passwordVariable(NATS_AUDIT_READER),
      inboxPrefix: reader,
      publish: [
        { subject: '$JS.API.INFO', why: 'JetStream account check' },
        { subject: '$JS.API.STREAM.NAMES', why: 'find the audit stream' },
        { subject: `$JS.API.CONSUMER.INFO.${AUDIT_STREAM}.>`, why: 'consumers of the audit stream' },
        { subject: `$JS.API.CONSUMER.CREATE.${AUDIT_STREAM}.>`, why: 'consumers of the audit stream' },
        { subject: `$JS.API.CONSUMER.MSG.NEXT.${AUDIT_STREAM}.>`, why: 'read the audit stream' },
        { subject: `$JS.ACK.${AUDIT_STREAM}.>`, why: 'acks of audit records' },
      ],
      subscribe: [{ subject: `${reader}.>`, why: 'own reply inbox' }],
    },
    ...access.map(natsServiceUser),
  ];
  const admin = { account: NATS_ADMIN_ACCOUNT, user: { user: NATS_ADMIN_USER, passwordVariable: passwordVariable(NATS_ADMIN_USER) }, apiPrefix: NATS_ADMIN_API_PREFIX };
  return { plan: { account: NATS_ACCOUNT, users, admin }, diagnostics };
}

const q = (s: string) => JSON.stringify(s);

/** The nats-server configuration fragment: `include` it from the server's configuration. */
export function renderNatsAcl(plan: NatsAclPlan, header: string): string {
  const lines: string[] = [];
  for (const h of header.split('\n')) lines.push(`# ${oneLine(h)}`.trimEnd());
  lines.push(`accounts {`, `  ${plan.account} {`, `    jetstream: enabled`, `    users: [`);
  renderUsers(lines, plan.users);
  lines.push(
    `    ]`,
    `    # The admin account's way in: this account's JetStream API, to ${plan.admin.account} alone.`,
    `    exports: [`,
    `      { service: "$JS.API.>", response: stream, accounts: [${q(plan.admin.account)}] }`,
    `    ]`,
    `  }`,
    `  # Provisioning and operators: JetStream management of ${plan.account} under ${plan.admin.apiPrefix}, no event subjects.`,
    `  ${plan.admin.account} {`,
    `    users: [`,
  );
  renderUsers(lines, [plan.admin.user]);
  lines.push(
    `    ]`,
    `    imports: [`,
    `      { service: { account: ${q(plan.account)}, subject: "$JS.API.>" }, to: ${q(`${plan.admin.apiPrefix}.>`)} }`,
    `    ]`,
    `  }`,
    `}`,
    '',
  );
  return lines.join('\n');
}

function renderUsers(lines: string[], users: readonly NatsAclUser[]): void {
  for (const u of users) {
    lines.push(`      {`);
    lines.push(`        user: ${q(u.user)}`);
    lines.push(`        password: $${u.passwordVariable}`);
    if (u.publish || u.subscribe) {
      lines.push(`        permissions: {`);
      for (const [kind, grants] of [
        ['publish', u.publish],
        ['subscribe', u.subscribe],
      ] as const) {
        lines.push(`          ${kind}: {`, `            allow: [`);
        for (const g of grants ?? []) lines.push(`              ${q(g.subject)} # ${oneLine(g.why)}`);
        lines.push(`            ]`, `          }`);
      }
      if (u.allowResponses) lines.push(`          allow_responses: { max: 1, expires: "1m" }`);
      lines.push(`        }`);
    }
    lines.push(`      }`);
  }
}
