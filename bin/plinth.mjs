#!/usr/bin/env node
// The plinth command. Its code is TypeScript, run in place through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../policies/cli.js');
process.exitCode = await main(process.argv.slice(2));
