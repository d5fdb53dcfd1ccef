import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const frontDir = dirname(fileURLToPath(import.meta.url));
export const defaultDistDir = join(frontDir, 'dist');
const MANIFEST = 'build-manifest.json';

export interface FrontBuildOptions {
  /** Where the site is written; default front/dist. */
  outDir?: string;
  minify?: boolean;
}

export interface FrontBuildResult {
  outDir: string;
  /** Paths relative to outDir. */
  files: string[];
  inputsHash: string;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Sources outside front/ the bundle imports (`#client-core/*`) or type-checks against (`#protocol/*`). */
const sharedSourceDirs = [join(frontDir, '..', 'client', 'core'), join(frontDir, '..', 'shared', 'src', 'protocol')];

/** A hash of everything the build reads: the site is stale exactly when this changes. */
export async function frontInputsHash(): Promise<string> {
  const files = [
    ...(await listFiles(join(frontDir, 'src'))),
    ...(await Promise.all(sharedSourceDirs.map(listFiles))).flat(),
    join(frontDir, 'index.html'),
    join(frontDir, 'styles.css'),
    fileURLToPath(import.meta.url),
  ].sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(frontDir, file));
    hash.update('\0');
    hash.update(await readFile(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** True when outDir is missing, incomplete, or was built from other sources. */
export async function isFrontBuildStale(outDir = defaultDistDir): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(join(outDir, MANIFEST), 'utf8')) as { inputsHash?: string };
    return manifest.inputsHash !== (await frontInputsHash());
  } catch {
    return true;
  }
}

/**
 * Bundles front/src into one ES module and the stylesheet, both with content-hashed names so a CDN
 * can cache them forever, and writes index.html pointing at them (index.html itself is never cached).
 * The site is built beside outDir and swapped in, so a server never sees half a build.
 */
export async function buildFront(options: FrontBuildOptions = {}): Promise<FrontBuildResult> {
  const outDir = resolve(options.outDir ?? defaultDistDir);
  const inputsHash = await frontInputsHash();
  const staging = `${outDir}.staging-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    const result = await build({
      absWorkingDir: frontDir,
      entryPoints: { app: 'src/main.ts', styles: 'styles.css' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
      minify: options.minify ?? true,
      sourcemap: 'linked',
      entryNames: '[name]-[hash]',
      outdir: staging,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
    });
    const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
    const app = outputs.find((file) => file.startsWith('app-') && file.endsWith('.js'));
    const styles = outputs.find((file) => file.startsWith('styles-') && file.endsWith('.css'));
    if (!app || !styles) throw new Error(`esbuild produced no app/styles bundle: ${outputs.join(', ')}`);
    const html = (await readFile(join(frontDir, 'index.html'), 'utf8'))
      .replace('%APP_JS%', `./${app}`)
      .replace('%STYLES_CSS%', `./${styles}`);
    await writeFile(join(staging, 'index.html'), html);
    await writeFile(join(staging, MANIFEST), `${JSON.stringify({ inputsHash, app, styles }, null, 2)}\n`);

    await rm(outDir, { recursive: true, force: true });
    await rename(staging, outDir);
    const files = (await listFiles(outDir)).map((file) => relative(outDir, file)).sort();
    return { outDir, files, inputsHash };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await buildFront({ minify: !process.argv.includes('--no-minify') });
  console.log(`front built into ${relative(process.cwd(), result.outDir) || '.'}: ${result.files.join(', ')}`);
}
