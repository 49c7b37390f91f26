#!/usr/bin/env node
// The `iddpm` command. Runs the TypeScript CLI through tsx's loader, so `npx iddpm` works right after
// `npm install` with no build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

register();
const here = path.dirname(fileURLToPath(import.meta.url));
await import(path.join(here, '..', 'src-main', 'cli', 'entry.ts'));
