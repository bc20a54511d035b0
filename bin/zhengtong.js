#!/usr/bin/env node
// Entry point of the `zhengtong` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (run automatically by `npm install` and `npm start`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('zhengtong: the build output is missing; run `npm run build` in the zhengtong directory first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv.slice(2));
