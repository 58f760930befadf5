/**
 * Names of NATS durable state, shared by the transport and the generator's provisioning
 * plan. Pure: imports no NATS client, so the generator can learn a consumer's name without
 * loading nats.js.
 */
import { createHash } from 'node:crypto';

/**
 * Durable consumer name for `subject` of a group filtering `subjects`. A group with one
 * subject uses the group name as is, so a provisioned consumer is simply named after it.
 * (nats-server 2.9 has one filter subject per consumer, so a group reading several subjects
 * gets one durable consumer per subject.)
 */
export function durableName(group: string, subjects: readonly string[], subject: string): string {
  if (subjects.length <= 1) return group;
  return `${group}-${createHash('sha256').update(subject).digest('hex').slice(0, 10)}`;
}

/** The subject a group's dead letters go to unless its subscription says otherwise (the bus's default). */
export function deadLetterSubject(group: string): string {
  return `deadletter.${group}`;
}

/**
 * The stream that stores a group's dead letters. Group names are `[A-Za-z0-9_-]+` (the bus
 * enforces it), which stream names accept as they are.
 */
export function deadLetterStreamName(group: string): string {
  return `DEADLETTER_${group}`;
}
