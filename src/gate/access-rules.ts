/**
 * Access rules: a contract change that widens what a service's broker account may do is a
 * finding of its own (ACCESS_WIDENED, a warning: intended widening is normal, but it is
 * never silent in review), and what cannot be granted safely (security/access.ts
 * diagnostics: a wildcard in an address, a consumer group of two services, a service
 * granted nothing, a group name that is no NATS token) is an error.
 */
import type { Catalog } from '../catalog/model.js';
import { serviceAccess, type ServiceAccess } from '../security/access.js';
import type { Finding } from './finding.js';

/** Each grant of a service as a sentence key → where the contract asks for it. */
function grants(a: ServiceAccess): Map<string, { text: string; location: ServiceAccess['location'] }> {
  const m = new Map<string, { text: string; location: ServiceAccess['location'] }>();
  for (const s of a.sends) m.set(`send ${s.subject}`, { text: `publish on ${s.subject}${s.request ? ' (requests)' : ''} (operation ${s.operation})`, location: s.location });
  for (const r of a.receives) {
    m.set(`receive ${r.group} ${r.subject}`, { text: `read ${r.subject} in consumer group ${r.group}${r.stream ? ` (durable consumer on stream ${r.stream})` : ''} (operation ${r.operation})`, location: r.location });
  }
  for (const r of a.responds) m.set(`respond ${r.group} ${r.subject}`, { text: `answer requests on ${r.subject} in group ${r.group} (operation ${r.operation})`, location: r.location });
  return m;
}

/** Grants the current contract gives a service that the base did not. */
export function checkAccessWidened(before: Catalog, after: Catalog, ref: string): Finding[] {
  const old = new Map(serviceAccess(before).access.map((a) => [a.service, grants(a)]));
  const findings: Finding[] = [];
  for (const a of serviceAccess(after).access) {
    const had = old.get(a.service);
    for (const [key, g] of grants(a)) {
      if (had?.has(key)) continue;
      findings.push({
        rule: 'ACCESS_WIDENED',
        code: 'ACCESS_WIDENED',
        severity: 'warning',
        breaking: false,
        message: `service ${a.service} may now ${g.text}, which it could not on ${ref}${had ? '' : ' (a new service account)'}; its broker permissions (generated/security) widen`,
        location: g.location,
        hint: 'review the access change in generated/security beside this contract change',
      });
    }
  }
  return findings;
}

/**
 * What the broker permissions cannot grant safely, as errors: every diagnostic of the access
 * view `acl` refuses on (ACL_RULES), so `check` fails a pull request that `acl` and the
 * generated permissions would fail later. A service granted nothing is one of them: every
 * document is a service with an account, and one that can do nothing is a mistake (an
 * operation forgotten, a channel without an address); accept it in
 * `compatibility.ignore` with a reason if it is intended.
 */
export function checkAccessGrantable(catalog: Catalog): Finding[] {
  return serviceAccess(catalog).diagnostics.map((d) => ({ ...d, rule: d.code, breaking: d.severity === 'error' }));
}
