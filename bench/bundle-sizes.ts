/**
 * Each Lambda function's bundle size, built with esbuild exactly as its template's BuildProperties
 * tell SAM to (minified; bytes of the handler file, source map excluded).
 *
 *   npx tsx bench/bundle-sizes.ts [--json]
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleFunction, functionBuilds } from './lib/function-bundles.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });

const builds = await functionBuilds(repoRoot, ['api/template.yaml', 'workflows/template.yaml']);
const bundles = [];
for (const fn of builds) bundles.push(await bundleFunction(repoRoot, fn));

if (values.json) {
  console.log(
    JSON.stringify(
      bundles.map(({ logicalId, bytes }) => ({ logicalId, bytes })),
      null,
      2,
    ),
  );
} else {
  console.log('| function | bytes |\n|---|---:|');
  for (const { logicalId, bytes } of bundles) console.log(`| ${logicalId} | ${bytes} |`);
}
