/** The second half of the soundness oracle's 10,000 pairs (see `soundness.test.ts`). */
import { describe } from 'vitest';
import { runOracle } from './oracle.js';

describe('soundness oracle against ajv', () => {
  runOracle('second half', 1_000_001, 5_000);
});
