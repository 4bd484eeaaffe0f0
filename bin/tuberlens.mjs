#!/usr/bin/env node
// Runs the TypeScript command-line tool through tsx, so no separate compile step is needed.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
await require('../scripts/cli.ts').main(process.argv.slice(2));
