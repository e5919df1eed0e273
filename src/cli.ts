#!/usr/bin/env node
/** Entry point of the `personaclick-sync` command. */
import { holdHeap } from './heap.js';

holdHeap();

const { main } = await import('./cli/main.js');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Give pino a moment to flush, then leave even if a keep-alive socket lingers.
setTimeout(() => process.exit(code), 50).unref();
