/**
 * Vitest global setup: gives the run a directory in which the first test file that needs
 * Kafka starts the shared broker (test/services/kafka.mjs, sharedKafka), and stops that
 * broker by PID when the run ends. Runs that select no Kafka test start no JVM.
 */
import { newRunDir, stopShared, sweepAbandoned } from './kafka.mjs';

export default async function setup(): Promise<() => Promise<void>> {
  await sweepAbandoned();
  const runDir = newRunDir();
  // Test files run in child processes forked after this point: they inherit the variable.
  process.env.EC_KAFKA_RUN_DIR = runDir;
  return async () => {
    await stopShared(runDir);
  };
}
