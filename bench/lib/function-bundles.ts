import { dirname, relative, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { loadCfnTemplate } from '../../local/cfn/template-loader.js';

/** The esbuild settings SAM reads from a function's `Metadata.BuildProperties`. */
export interface BuildProperties {
  EntryPoints: string[];
  Format?: 'esm' | 'cjs';
  Target?: string;
  Minify?: boolean;
  Sourcemap?: boolean;
  External?: string[];
  OutExtension?: string[];
  Banner?: string[];
}

export interface FunctionBuild {
  template: string;
  logicalId: string;
  /** The directory the entry points are relative to (the function's CodeUri). */
  codeRoot: string;
  properties: BuildProperties;
}

export interface FunctionBundle {
  template: string;
  logicalId: string;
  /** Bytes of the bundled handler (the source map excluded). */
  bytes: number;
  /** Every file esbuild put code of into the bundle, relative to the repository root. */
  inputs: string[];
}

const FUNCTION_TYPES = new Set(['AWS::Serverless::Function']);

/** Every esbuild-built function of the given templates, with the BuildProperties SAM would use. */
export async function functionBuilds(repoRoot: string, templates: readonly string[]): Promise<FunctionBuild[]> {
  const builds: FunctionBuild[] = [];
  for (const template of templates) {
    const path = resolve(repoRoot, template);
    const loaded = await loadCfnTemplate(path);
    for (const [logicalId, resource] of Object.entries(loaded.Resources)) {
      if (!FUNCTION_TYPES.has(resource.Type) || resource.Metadata?.BuildMethod !== 'esbuild') continue;
      const codeUri = resource.Properties?.CodeUri;
      if (typeof codeUri !== 'string') throw new Error(`${template} ${logicalId}: CodeUri is not a local path`);
      builds.push({
        template,
        logicalId,
        codeRoot: resolve(dirname(path), codeUri),
        properties: resource.Metadata.BuildProperties as BuildProperties,
      });
    }
  }
  return builds;
}

/** `[".js=.mjs"]` / `["js=..."]` → `{ ".js": ".mjs" }`, as SAM passes them to esbuild's CLI. */
const pairs = (entries: readonly string[] | undefined) =>
  Object.fromEntries(
    (entries ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );

/**
 * Bundles one function the way SAM's esbuild workflow does (bundle, platform node, the template's
 * format, target, minify, source map, externals, banner), in memory, and reports its size.
 */
export async function bundleFunction(repoRoot: string, fn: FunctionBuild): Promise<FunctionBundle> {
  const props = fn.properties;
  const result = await build({
    absWorkingDir: fn.codeRoot,
    entryPoints: props.EntryPoints,
    bundle: true,
    platform: 'node',
    format: props.Format ?? 'cjs',
    target: props.Target,
    minify: props.Minify ?? false,
    sourcemap: props.Sourcemap ? 'external' : false,
    external: props.External ?? [],
    outExtension: pairs(props.OutExtension),
    banner: pairs(props.Banner),
    outdir: 'out',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles.filter((file) => !file.path.endsWith('.map'));
  const metafile = result.metafile as Metafile;
  // A module esbuild parsed but tree-shook away entirely is listed with 0 bytes: it is not in the bundle.
  const bundled = Object.values(metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
      .map(([input]) => input),
  );
  return {
    template: fn.template,
    logicalId: fn.logicalId,
    bytes: code.reduce((sum, file) => sum + file.contents.byteLength, 0),
    inputs: [...new Set(bundled)].map((input) => relative(repoRoot, resolve(fn.codeRoot, input))).sort(),
  };
}
