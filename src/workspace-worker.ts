/**
 * A worker thread that turns some of a workspace's documents into catalog contributions
 * (AsyncAPI parse + description), so a cold run uses every core. It writes the same
 * per-document cache the main thread reads, and posts the results back as plain data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { prepareWorkspace } from './load/index.js';
import { documentModel } from './workspace.js';

// A worker shares the process's working directory, so display paths come out the same.
const { entries } = workerData as { entries: string[] };
const prepared = prepareWorkspace(entries);
const results = [];
for (const entry of prepared.entries.filter((e) => e.ok)) {
  results.push({ absPath: entry.entry.absPath, ...(await documentModel(entry, prepared.sources)) });
}
parentPort!.postMessage(results);
