// Prints the size of each built bundle and chunk, raw and gzipped, and fails when the extension's entry
// outgrows its budget or an entry holds TF.js, which must load lazily.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = join(__dirname, '..', 'dist');
/** The extension's entry bundle (without lazily loaded chunks) must stay small: it loads with every viewer page. */
const ENTRY_BUDGET_GZIP_KIB = 200;
const ENTRIES = [join('extension', 'index.js'), join('extension', 'engine.js')];
/** TF.js is megabytes of code and work that only a detection needs: it lives in lazily loaded chunks. */
const LAZY_ONLY = /[\\/]node_modules[\\/]@tensorflow[\\/]/;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const problems: string[] = [];
for (const file of readdirSync(DIST, { recursive: true, encoding: 'utf8' })
  .filter(name => name.endsWith('.js'))
  .sort()) {
  const bytes = readFileSync(join(DIST, file));
  const gzipped = gzipSync(bytes).byteLength;
  const isExtensionEntry = file === ENTRIES[0];
  const budget = isExtensionEntry ? ` (budget ${ENTRY_BUDGET_GZIP_KIB} KiB gzipped)` : '';
  if (isExtensionEntry && gzipped > ENTRY_BUDGET_GZIP_KIB * 1024)
    problems.push(`${file} is over its ${ENTRY_BUDGET_GZIP_KIB} KiB gzipped budget.`);
  if (ENTRIES.includes(file) && bundledSources(file).some(source => LAZY_ONLY.test(source)))
    problems.push(`${file} holds TF.js, which must be imported lazily (import()).`);
  console.log(
    `${file.padEnd(48)} ${kib(bytes.byteLength).padStart(11)} ${kib(gzipped).padStart(11)} gzipped${budget}`
  );
}
if (problems.length > 0) {
  problems.forEach(problem => console.error(problem));
  process.exit(1);
}

/** The source files webpack put into a bundle, from its source map. */
function bundledSources(file: string): string[] {
  return (JSON.parse(readFileSync(join(DIST, `${file}.map`), 'utf8')) as { sources: string[] })
    .sources;
}
