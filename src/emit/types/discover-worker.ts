/**
 * Model discovery in a worker thread: importing modelina costs about half a second, which
 * the worker pays on the other core while the main thread parses the documents (see
 * `prewarmDiscovery`). It answers each message (a combined document) with the model names
 * or the error message.
 */
import { parentPort } from 'node:worker_threads';
import { createSplitter, modelNames, type Json } from './splitter.js';

const splitter = createSplitter(await import('@asyncapi/modelina'));

parentPort!.on('message', (input: Json) => {
  splitter.split(input).then(
    (split) => parentPort!.postMessage({ ok: true, names: modelNames(split) }),
    (error: unknown) => parentPort!.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
});
