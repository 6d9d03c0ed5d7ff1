#!/usr/bin/env node
// Entry point of the interop-cert command. The harness is written in TypeScript and runs
// through tsx's loader, so the command works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli/main.ts');
process.exitCode = await main(process.argv);
