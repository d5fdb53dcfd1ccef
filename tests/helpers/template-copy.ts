import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../../local/stack.js';

/**
 * One textual change to one template: the first occurrence of `find` becomes `replace`. `find` must
 * occur, or the copy would silently test nothing.
 */
export interface TemplateEdit {
  /** The template's path from the repo root, e.g. `workflows/template.yaml`. */
  file: string;
  find: string;
  replace: string;
}

export interface TemplateCopy {
  /** The copy's root template, for `startTestStack({ templatePath })`. */
  templatePath: string;
  remove(): Promise<void>;
}

/** The code and package files the functions build from (their CodeUri is the repo root), linked, not copied. */
const CODE_PARTS = [
  'api/src',
  'workflows/src',
  'shared/src',
  'db/src',
  'node_modules',
  'package.json',
  'tsconfig.json',
];

const TEMPLATE_PARTS = [
  'template.yaml',
  'db/template.yaml',
  'shared/template.yaml',
  'api/template.yaml',
  'front/template.yaml',
  'workflows/template.yaml',
  'workflows/statemachine',
];

/**
 * Copies the templates (and the ASL they reference) into a temporary folder with the given edits, so a
 * test can start the stack from templates that lack one grant and show what AWS would then refuse. The
 * functions' code is linked in, so the copy builds the same bundles.
 */
export async function copyTemplatesWith(edits: readonly TemplateEdit[]): Promise<TemplateCopy> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-templates-'));
  for (const part of TEMPLATE_PARTS) await cp(join(repoRoot, part), join(dir, part), { recursive: true });
  for (const part of CODE_PARTS) {
    await mkdir(dirname(join(dir, part)), { recursive: true });
    await symlink(join(repoRoot, part), join(dir, part));
  }
  for (const edit of edits) {
    const path = join(dir, edit.file);
    const text = await readFile(path, 'utf8');
    const edited = text.replace(edit.find, edit.replace);
    if (edited === text) throw new Error(`${edit.file}: ${String(edit.find)} not found`);
    await writeFile(path, edited);
  }
  return { templatePath: join(dir, 'template.yaml'), remove: () => rm(dir, { recursive: true, force: true }) };
}
