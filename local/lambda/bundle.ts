import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, version as esbuildVersion } from 'esbuild';
import type { LocalFunction } from '../stack-model.js';

/** Where bundles are kept between runs; node_modules/.cache is already ignored by git and by `npm ci` users. */
export const defaultBundleCacheDir = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'node_modules',
  '.cache',
  'local-lambda',
);

interface Manifest {
  /** Every file esbuild read, by absolute path, with the sha256 of its content. */
  inputs: Record<string, string>;
  /** The module to load, relative to the bundle's directory. */
  output: string;
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/** `["js=import x from 'y';"]` → `{ js: "import x from 'y';" }`, as `sam build` hands Banner to esbuild. */
function keyValues(items: string[], what: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw new Error(`${what} entry "${item}" is not key=value`);
    result[item.slice(0, at)] = item.slice(at + 1);
  }
  return result;
}

/** The esbuild options `sam build` derives from a function's BuildProperties (BuildMethod esbuild). */
export function esbuildOptionsFor(fn: LocalFunction): BuildOptions {
  const { build: props } = fn;
  return {
    absWorkingDir: fn.codeRoot,
    entryPoints: [fn.entry],
    bundle: true,
    platform: 'node',
    format: props.format,
    ...(props.target ? { target: props.target } : {}),
    minify: props.minify,
    sourcemap: props.sourcemap,
    external: props.external,
    banner: keyValues(props.banner, 'Banner'),
    outExtension: keyValues(props.outExtension, 'OutExtension'),
    ...(props.mainFields ? { mainFields: props.mainFields } : {}),
    loader: keyValues(props.loader, 'Loader') as BuildOptions['loader'],
  };
}

async function hashInputs(paths: string[]): Promise<Record<string, string> | undefined> {
  const hashes: Record<string, string> = {};
  try {
    await Promise.all(
      paths.map(async (path) => {
        hashes[path] = sha256(await readFile(path));
      }),
    );
  } catch {
    return undefined;
  }
  return hashes;
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/**
 * Builds with esbuild into `cacheDir/<hash of the options>/`, unless a bundle built from the same
 * options and the same input files (compared by content) is already there. Several processes may
 * build the same bundle at once: each writes its own directory and renames it into place.
 */
export async function cachedBuild(options: BuildOptions, cacheDir: string): Promise<string> {
  const key = sha256(JSON.stringify({ esbuildVersion, options }));
  const dir = join(cacheDir, key);
  const existing = await readManifest(dir);
  if (existing) {
    const now = await hashInputs(Object.keys(existing.inputs));
    if (now && Object.entries(existing.inputs).every(([path, hash]) => now[path] === hash)) {
      return join(dir, existing.output);
    }
  }

  const workDir = `${dir}.${process.pid}.${randomUUID()}`;
  await mkdir(workDir, { recursive: true });
  try {
    const result = await build({ ...options, outdir: workDir, metafile: true, write: true, logLevel: 'silent' });
    const workingDir = options.absWorkingDir ?? process.cwd();
    const inputs = await hashInputs(Object.keys(result.metafile.inputs).map((path) => resolve(workingDir, path)));
    if (!inputs) throw new Error('an input file vanished while bundling');
    const entryOutput = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint);
    if (!entryOutput) throw new Error('esbuild produced no entry output');
    const output = basename(entryOutput[0]);
    await writeFile(join(workDir, 'manifest.json'), JSON.stringify({ inputs, output } satisfies Manifest));
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(workDir, dir);
      return join(dir, output);
    } catch {
      // Another process renamed its identical build into place first; use that one.
      if (await readManifest(dir)) return join(dir, output);
      throw new Error(`could not place the bundle in ${dir}`);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Bundles a function as `sam build` would, and returns the absolute path of the module to load. */
export function bundleFunction(fn: LocalFunction, cacheDir = defaultBundleCacheDir): Promise<string> {
  return cachedBuild(esbuildOptionsFor(fn), cacheDir);
}

/**
 * The code that runs inside each worker (Lambda's runtime client, in effect), bundled on its own
 * so the worker loads plain JavaScript whatever runs the stack (tsx, vitest or compiled code).
 */
export function bundleWorkerRuntime(cacheDir = defaultBundleCacheDir): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = join(here, `worker-runtime${extname(fileURLToPath(import.meta.url))}`);
  return cachedBuild(
    {
      absWorkingDir: here,
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outExtension: { '.js': '.mjs' },
    },
    cacheDir,
  );
}
