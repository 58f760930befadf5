#!/usr/bin/env node
// The CLI ships as compiled JavaScript (Node 20 runs no .ts); `npm ci` builds it in `prepare`.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
