import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CfnTemplate, loadCfnTemplate } from '../../local/cfn/template-loader.js';

export type {
  CfnOutput,
  CfnParameter,
  CfnResource,
  CfnTemplate,
  CfnValue,
} from '../../local/cfn/template-loader.js';
export { CfnTemplateParseError, loadCfnTemplate, parseCfnTemplate } from '../../local/cfn/template-loader.js';

/** Absolute path of the repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The stack's templates, by the name the tests use. */
export const TEMPLATE_FILES = {
  root: 'template.yaml',
  db: 'db/template.yaml',
  shared: 'shared/template.yaml',
  api: 'api/template.yaml',
  workflows: 'workflows/template.yaml',
  front: 'front/template.yaml',
} as const;

export type TemplateName = keyof typeof TEMPLATE_FILES;

/** Loads every template of the stack. */
export async function loadAllTemplates(): Promise<Record<TemplateName, CfnTemplate>> {
  const names = Object.keys(TEMPLATE_FILES) as TemplateName[];
  const loaded = await Promise.all(names.map((name) => loadCfnTemplate(resolve(REPO_ROOT, TEMPLATE_FILES[name]))));
  return Object.fromEntries(names.map((name, i) => [name, loaded[i]])) as Record<TemplateName, CfnTemplate>;
}

/** One reference found inside a template value. */
export interface IntrinsicReference {
  kind: 'Ref' | 'GetAtt' | 'Sub' | 'Condition';
  /** Logical id, parameter, pseudo parameter or condition name. */
  target: string;
  /** For GetAtt (and `${A.B}` in Sub): the attribute. */
  attribute?: string;
  /** Where it was found, e.g. `Resources.Api.Properties.Parameters.Stage`. */
  path: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `${Name}` and `${Res.Attr}` in a Sub string; `${!Literal}` is an escape, not a reference. */
function subReferences(text: string, locals: ReadonlySet<string>, path: string): IntrinsicReference[] {
  const refs: IntrinsicReference[] = [];
  for (const match of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
    const name = (match[1] ?? '').trim();
    if (locals.has(name)) continue;
    const dot = name.indexOf('.');
    refs.push(
      dot > 0 && !name.startsWith('AWS::')
        ? { kind: 'Sub', target: name.slice(0, dot), attribute: name.slice(dot + 1), path }
        : { kind: 'Sub', target: name, path },
    );
  }
  return refs;
}

/**
 * Every Ref, GetAtt, Sub variable and Condition reference inside a value, with its path.
 * Condition references are `Fn::If` first arguments and `{Condition: name}` nodes.
 */
export function collectReferences(value: unknown, path = ''): IntrinsicReference[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => collectReferences(item, `${path}[${i}]`));
  if (!isObject(value)) return [];
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const ref = value.Ref;
    if (typeof ref === 'string') return [{ kind: 'Ref', target: ref, path }];
    const condition = value.Condition;
    if (typeof condition === 'string') return [{ kind: 'Condition', target: condition, path }];
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
      const attribute = typeof getAtt[1] === 'string' ? getAtt[1] : undefined;
      return [
        { kind: 'GetAtt', target: getAtt[0], ...(attribute === undefined ? {} : { attribute }), path },
        ...collectReferences(getAtt.slice(1), `${path}.Fn::GetAtt`),
      ];
    }
    const sub = value['Fn::Sub'];
    if (typeof sub === 'string') return subReferences(sub, new Set(), `${path}.Fn::Sub`);
    if (Array.isArray(sub) && typeof sub[0] === 'string') {
      const variables = isObject(sub[1]) ? sub[1] : {};
      return [
        ...subReferences(sub[0], new Set(Object.keys(variables)), `${path}.Fn::Sub`),
        ...collectReferences(variables, `${path}.Fn::Sub[1]`),
      ];
    }
    const fnIf = value['Fn::If'];
    if (Array.isArray(fnIf) && typeof fnIf[0] === 'string') {
      return [
        { kind: 'Condition', target: fnIf[0], path: `${path}.Fn::If` },
        ...collectReferences(fnIf.slice(1), `${path}.Fn::If`),
      ];
    }
  }
  return keys.flatMap((key) => collectReferences(value[key], path ? `${path}.${key}` : key));
}

/** Pseudo parameters CloudFormation resolves in every template. */
export const PSEUDO_PARAMETERS: ReadonlySet<string> = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);
