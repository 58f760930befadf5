import { AddressParameterError } from './errors.js';
import type { EventDescriptor } from './types.js';

/**
 * A channel address template compiled once per descriptor: generated descriptors are
 * module-level constants, so a WeakMap cache makes the per-publish cost a lookup.
 */
export interface CompiledAddress {
  readonly template: string;
  /** Subscription pattern: every token holding a parameter becomes `*`. */
  readonly pattern: string;
  fill(params: Readonly<Record<string, string>> | undefined): string;
  /** Parameters recovered from a concrete subject, or undefined when it does not match. */
  extract(subject: string): Record<string, string> | undefined;
}

const cache = new WeakMap<object, CompiledAddress>();
const PARAM = /\{([^{}]+)\}/g;
/** Characters that would change the shape of a NATS subject or an AMQP routing key. */
const FORBIDDEN_IN_PARAM = /[.*>#\s]/;

export function compileAddress(template: string): CompiledAddress {
  const names: string[] = [];
  const parts: Array<string | { param: string }> = [];
  let last = 0;
  for (const m of template.matchAll(PARAM)) {
    if (m.index > last) parts.push(template.slice(last, m.index));
    const name = m[1] as string;
    names.push(name);
    parts.push({ param: name });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  const pattern = template
    .split('.')
    .map((t) => (t.includes('{') ? '*' : t))
    .join('.');
  const regex = new RegExp(
    '^' + parts.map((p) => (typeof p === 'string' ? p.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&') : '([^.]+)')).join('') + '$',
  );
  const literal = names.length === 0;
  return {
    template,
    pattern,
    fill(params) {
      if (literal) return template;
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') {
          out += p;
          continue;
        }
        const v = params?.[p.param];
        if (v === undefined || v === '') throw new AddressParameterError(`address ${template} needs parameter '${p.param}'`);
        if (FORBIDDEN_IN_PARAM.test(v)) {
          throw new AddressParameterError(`parameter '${p.param}' of ${template} must not contain '.', '*', '>', '#' or spaces: ${JSON.stringify(v)}`);
        }
        out += v;
      }
      return out;
    },
    extract(subject) {
      const m = regex.exec(subject);
      if (!m) return undefined;
      const out: Record<string, string> = {};
      names.forEach((n, i) => (out[n] = m[i + 1] as string));
      return out;
    },
  };
}

export function addressOf(descriptor: EventDescriptor<unknown>): CompiledAddress {
  let c = cache.get(descriptor);
  if (!c) {
    c = compileAddress(descriptor.address);
    cache.set(descriptor, c);
  }
  return c;
}

/** NATS subject matching: `*` one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const t = p[i];
    if (t === '>') return s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return p.length === s.length;
}
