/**
 * Request/reply over core NATS: nats.js requests (one muxed inbox), responders on queue
 * groups. A request or responder that nats-server's permissions refuse fails with
 * PermissionDeniedError, not a timeout.
 */
import { errors, type NatsConnection } from '@nats-io/transport-node';
import { NoResponderError, RequestTimeoutError } from '../errors.js';
import type { InboundMessage, OutboundMessage, RequestHandler, ServeSpec, TransportSubscription } from '../types.js';
import { permissionDenied, serverCaughtUp } from './connection.js';
import { readHeaders, toNatsHeaders } from './headers.js';

export async function request(nc: NatsConnection, m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
  let r;
  try {
    r = await nc.request(m.subject, m.body, { timeout: timeoutMs, headers: toNatsHeaders(m.headers) });
  } catch (err) {
    if (err instanceof errors.RequestError && err.isNoResponders()) throw new NoResponderError(m.subject);
    if (err instanceof errors.TimeoutError) throw new RequestTimeoutError(m.subject, timeoutMs);
    // nats.js fails a request whose publish (or whose reply inbox) the server refused.
    throw permissionDenied(err, 'request', m.subject) ?? err;
  }
  // A reply with a header block nats.js refuses is an error of the responder, reported as such.
  return { subject: r.subject, headers: readHeaders(r), body: r.data };
}

const ERROR_HEADERS = (code: string, detail: string) => toNatsHeaders({ 'ec-reply-error': code, 'ec-reply-error-detail': detail.replace(/[\r\n]+/g, ' ').slice(0, 512) });

export async function serve(nc: NatsConnection, spec: ServeSpec, handler: RequestHandler): Promise<TransportSubscription> {
  let refused: unknown;
  const s = nc.subscribe(spec.subject, {
    ...(spec.group ? { queue: spec.group } : {}),
    callback: (err, msg) => {
      if (err) {
        refused ??= permissionDenied(err, 'respond', spec.subject) ?? err;
        return;
      }
      if (!msg.reply) return;
      let headers;
      try {
        headers = readHeaders(msg);
      } catch (e) {
        // The requester framed its headers so that nats.js cannot read them: tell it, keep serving.
        msg.respond(new Uint8Array(0), { headers: ERROR_HEADERS('headers-invalid', String(e)) });
        return;
      }
      let answer: ReturnType<RequestHandler>;
      try {
        answer = handler({ subject: msg.subject, headers, body: msg.data });
      } catch (e) {
        answer = Promise.reject(e);
      }
      answer
        .then(
          (r) => msg.respond(r.body, { headers: toNatsHeaders(r.headers) }),
          (e: unknown) => msg.respond(new Uint8Array(0), { headers: ERROR_HEADERS('handler-failed', String(e)) }),
        )
        .catch(() => undefined); // the connection went away; the requester times out
    },
  });
  // A subscription that nats-server's permissions refuse is reported before the PONG of a flush.
  await serverCaughtUp(nc);
  if (refused) {
    s.unsubscribe();
    throw refused;
  }
  return {
    // Drain: requests already received still get their reply.
    stop: async () => void (await s.drain().catch(() => undefined)),
  };
}
