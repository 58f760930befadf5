import type { DeadLetterReason, ValidationIssue } from './types.js';

/** Base class so callers can catch everything the runtime throws on purpose. */
export class EventContractsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A payload failed its descriptor's validator; nothing was sent. */
export class EventValidationError extends EventContractsError {
  constructor(
    readonly eventId: string,
    readonly eventType: string,
    readonly eventVersion: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(
      `${eventType}@${eventVersion} (${eventId}) is invalid: ` +
        issues.map((i) => `${i.path || '/'} ${i.message}`).join('; '),
    );
  }
}

/** The encoded event is larger than the broker accepts; nothing was sent. */
export class EventTooLargeError extends EventContractsError {
  constructor(
    readonly eventId: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`event ${eventId} is ${sizeBytes} bytes, the broker accepts at most ${limitBytes}`);
  }
}

/** A channel parameter is missing or would change the subject's shape. */
export class AddressParameterError extends EventContractsError {}

export class RequestTimeoutError extends EventContractsError {
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply on ${subject} within ${timeoutMs} ms`);
  }
}

export class NoResponderError extends EventContractsError {
  constructor(readonly subject: string) {
    super(`no responder is listening on ${subject}`);
  }
}

/** The responder answered with an error instead of a reply event. */
export class RemoteHandlerError extends EventContractsError {
  constructor(
    readonly subject: string,
    readonly code: string,
    detail: string,
  ) {
    super(`responder on ${subject} failed (${code}): ${detail}`);
  }
}

/** An inbound message could not be turned into an envelope. */
export class DecodeError extends EventContractsError {
  constructor(
    readonly reason: DeadLetterReason,
    message: string,
  ) {
    super(message);
  }
}

/** Some items of a batch were not stored; `receipts[i]` is set for the ones that were. */
export class PublishBatchError extends EventContractsError {
  constructor(
    readonly receipts: ReadonlyArray<import('./types.js').PublishReceipt | undefined>,
    readonly failures: ReadonlyArray<{ index: number; error: unknown }>,
  ) {
    super(`${failures.length} of ${receipts.length} batch publishes failed; republishing the batch is safe (ids are kept)`);
  }
}

export class BusClosedError extends EventContractsError {
  constructor() {
    super('the event bus is closed');
  }
}

/** What a broker's permissions can refuse. */
export type BrokerOperation = 'publish' | 'subscribe' | 'request' | 'respond';

/**
 * The broker's permissions refused an operation on a subject (nats-server permissions
 * violation, RabbitMQ 403 ACCESS_REFUSED). Not retried: retrying cannot succeed until an
 * operator grants the permission. Nothing was stored.
 */
export class PermissionDeniedError extends EventContractsError {
  constructor(
    readonly operation: BrokerOperation,
    readonly subject: string,
    readonly transport: string,
    readonly detail: string,
  ) {
    super(`${transport}: permission denied to ${operation} on '${subject}' (${detail}); grant it in the broker's permissions for this account`);
  }
}

/** The message headers of an outbound event do not satisfy the contract's headers schema. */
export class HeaderValidationError extends EventContractsError {
  constructor(
    readonly eventId: string,
    readonly eventType: string,
    readonly eventVersion: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(`${eventType}@${eventVersion} (${eventId}) headers are invalid: ` + issues.map((i) => `${i.path || '/'} ${i.message}`).join('; '));
  }
}

/**
 * The TLS handshake with the broker failed (an untrusted or misnamed server certificate, a
 * client certificate the server refused, TLS asked of a server without it). `code` is
 * node's TLS error code; the message says what to fix. Not retried.
 */
export class TlsHandshakeError extends EventContractsError {
  constructor(
    readonly transport: string,
    readonly server: string,
    readonly code: string,
    advice: string,
    options?: { cause?: unknown },
  ) {
    super(`${transport}: TLS handshake with ${server} failed (${code}): ${advice}`, options);
  }
}

/**
 * The broker refused the credentials (user/password, token, nkey, creds, client
 * certificate for EXTERNAL). The message names the mechanism and where the secret came
 * from, never the secret. Not retried.
 */
export class AuthenticationError extends EventContractsError {
  constructor(
    readonly transport: string,
    readonly server: string,
    readonly mechanism: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${transport}: ${server} refused the ${mechanism} credentials (${detail}); check the account's secret and that the broker's configuration has this account`, options);
  }
}

/** A secret could not be read from where the options say it is (a file, an environment variable). */
export class SecretUnavailableError extends EventContractsError {
  constructor(
    readonly what: string,
    readonly source: string,
    reason: string,
  ) {
    super(`${what}: ${source} is ${reason}`);
  }
}

/**
 * The broker's dedupe window already holds this event id on another subject, so the broker
 * dropped this publish as a duplicate. Each event needs its own id; in a dual publish of two
 * major versions, each version is its own event.
 */
export class EventIdCollisionError extends EventContractsError {
  constructor(
    readonly eventId: string,
    readonly subject: string,
    readonly storedSubject: string,
  ) {
    super(
      `event id ${eventId} was already published on '${storedSubject}' within the broker's dedupe window, so this publish on '${subject}' was dropped as a duplicate; give each event its own id (each major version of a dual publish is its own event)`,
    );
  }
}
