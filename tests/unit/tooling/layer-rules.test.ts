import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/cfn-template.js';

const run = promisify(execFile);
const depcruise = resolve(REPO_ROOT, 'node_modules/.bin/depcruise');
const config = resolve(REPO_ROOT, '.dependency-cruiser.cjs');
const folders = ['shared', 'db', 'api', 'workflows', 'local'];

/** A tree laid out like the repository's, with the same subpath imports. */
const base: Record<string, string> = {
  'package.json': JSON.stringify({
    type: 'module',
    imports: { '#core/*': './shared/src/core/*.ts', '#aws/*': './shared/src/aws/*.ts', '#db/*': './db/src/*.ts' },
  }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
  'shared/src/core/a.ts': 'export const a = 1;\n',
  'shared/src/aws/b.ts': "import { a } from '#core/a';\nexport const b = a;\n",
  'db/src/c.ts': "import { a } from '#core/a';\nexport const c = a;\n",
  'api/src/d.ts': "import { b } from '#aws/b';\nimport { c } from '#db/c';\nexport const d = b + c;\n",
  'workflows/src/e.ts': "import { b } from '#aws/b';\nexport const e = b;\n",
  'local/x.ts': 'export const x = 1;\n',
};

/** One file per rule, each breaking it once. */
const violations: Record<string, string> = {
  'shared/src/core/uses-adapter.ts': "import { b } from '#aws/b';\nexport const y = b;\n",
  'shared/src/core/uses-sdk.ts':
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const y = DynamoDBClient;\n",
  'shared/src/aws/uses-table.ts': "import { c } from '#db/c';\nexport const y = c;\n",
  'db/src/uses-api.ts': "import { d } from '../../api/src/d.js';\nexport const y = d;\n",
  'workflows/src/uses-api.ts': "import { d } from '../../api/src/d.js';\nexport const y = d;\n",
  'api/src/uses-local.ts': "import { x } from '../../local/x.js';\nexport const y = x;\n",
  'db/src/cycle-one.ts': "import { two } from './cycle-two.js';\nexport const one = () => two;\n",
  'db/src/cycle-two.ts': "import { one } from './cycle-one.js';\nexport const two = () => one;\n",
  'api/src/typo.ts': "import { a } from '#core/nowhere';\nexport const y = a;\n",
};

async function layTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  // The SDK import must resolve for the rule to see where it points.
  await symlink(resolve(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
}

/** Runs the checker as CI does, on a tree; resolves with its exit code and report. */
async function check(root: string): Promise<{ code: number; report: string }> {
  try {
    const { stdout } = await run(depcruise, ['--config', config, '--output-type', 'err', ...folders], { cwd: root });
    return { code: 0, report: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, report: failed.stdout ?? '' };
  }
}

let clean: string;
let broken: string;

beforeAll(async () => {
  clean = await mkdtemp(join(tmpdir(), 'layers-clean-'));
  broken = await mkdtemp(join(tmpdir(), 'layers-broken-'));
  await layTree(clean, base);
  await layTree(broken, { ...base, ...violations });
});

afterAll(async () => {
  await rm(clean, { recursive: true, force: true });
  await rm(broken, { recursive: true, force: true });
});

describe('the layer rules (.dependency-cruiser.cjs)', () => {
  it('pass a tree whose arrows all point down', async () => {
    expect(await check(clean)).toMatchObject({ code: 0 });
  });

  it('fail a tree that breaks each rule, naming every violation', async () => {
    const { code, report } = await check(broken);
    expect(code).not.toBe(0);
    const found = [...report.matchAll(/error (\S+): (\S+)/g)].map(([, rule, from]) => `${rule} ${from}`).sort();
    expect(found).toEqual([
      'aws-adapters-below-tables-and-deployables shared/src/aws/uses-table.ts',
      'core-is-aws-free shared/src/core/uses-adapter.ts',
      'core-is-aws-free shared/src/core/uses-sdk.ts',
      'db-below-deployables db/src/uses-api.ts',
      'deployables-independent workflows/src/uses-api.ts',
      'no-cycles db/src/cycle-one.ts',
      'no-tooling-in-production api/src/uses-local.ts',
      'resolvable api/src/typo.ts',
    ]);
  });
});
