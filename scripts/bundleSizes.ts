// Prints the size of each built bundle, raw and gzipped, and fails when the extension outgrows its budget.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = join(__dirname, '..', 'dist');
/** The extension's entry bundle (without lazily loaded chunks) must stay small: it loads with every viewer page. */
const ENTRY_BUDGET_GZIP_KIB = 200;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
let overBudget = false;
for (const file of readdirSync(DIST, { recursive: true, encoding: 'utf8' })
  .filter(name => name.endsWith('.js'))
  .sort()) {
  const bytes = readFileSync(join(DIST, file));
  const gzipped = gzipSync(bytes).byteLength;
  const isEntry = file === join('extension', 'index.js');
  const budget = isEntry ? ` (budget ${ENTRY_BUDGET_GZIP_KIB} KiB gzipped)` : '';
  overBudget ||= isEntry && gzipped > ENTRY_BUDGET_GZIP_KIB * 1024;
  console.log(
    `${relative(DIST, join(DIST, file)).padEnd(40)} ${kib(bytes.byteLength).padStart(11)} ${kib(gzipped).padStart(11)} gzipped${budget}`
  );
}
if (overBudget) {
  console.error(`extension/index.js is over its ${ENTRY_BUDGET_GZIP_KIB} KiB gzipped budget.`);
  process.exit(1);
}
