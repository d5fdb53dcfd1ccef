import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CfnResource,
  type CfnTemplate,
  collectReferences,
  loadAllTemplates,
  loadCfnTemplate,
  PSEUDO_PARAMETERS,
  REPO_ROOT,
  TEMPLATE_FILES,
  type TemplateName,
} from '../../helpers/cfn-template.js';

const templates = await loadAllTemplates();
const names = Object.keys(TEMPLATE_FILES) as TemplateName[];
const templateDir = (name: TemplateName) => dirname(resolve(REPO_ROOT, TEMPLATE_FILES[name]));

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The logical id a function's LoggingConfig.LogGroup refers to. */
function logGroupOf(resource: CfnResource): string | undefined {
  const config = resource.Properties?.LoggingConfig;
  const group = isObject(config) ? config.LogGroup : undefined;
  return isObject(group) && typeof group.Ref === 'string' ? group.Ref : undefined;
}

/** Every SAM function of the stack, with the template it lives in. */
const functions = names.flatMap((name) =>
  resourcesOfType(templates[name], 'AWS::Serverless::Function').map(([id, resource]) => ({ name, id, resource })),
);

/** The names docs/architecture.md's "Environment variables" table defines. */
async function architectureEnvironmentNames(): Promise<Set<string>> {
  const doc = await readFile(resolve(REPO_ROOT, 'docs/architecture.md'), 'utf8');
  const section = doc.split('### Environment variables')[1]?.split('\n### ')[0] ?? '';
  const found = new Set<string>();
  for (const line of section.split('\n')) {
    const firstCell = line.split('|')[1] ?? '';
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) found.add(match[1] ?? '');
  }
  return found;
}

describe('stack hygiene', () => {
  it('the stack has the functions the architecture names', () => {
    expect(functions.map((f) => `${f.name}/${f.id}`).sort()).toEqual([
      'api/AuthorizerFunction',
      'api/ConnectFunction',
      'api/DisconnectFunction',
      'api/ModerationExampleFunction',
      'api/RestApiFunction',
      'api/WebSocketActionsFunction',
      'workflows/MessagesStreamFunction',
      'workflows/MetricsStreamFunction',
      'workflows/PostToConnectionsFunction',
      'workflows/SessionStartFunction',
    ]);
  });

  describe.each(functions)('$name/$id', ({ name, resource }) => {
    const props = resource.Properties ?? {};
    const template = templates[name];

    it('logs to its own log group with a retention', () => {
      const logGroupId = logGroupOf(resource);
      expect(logGroupId, 'LoggingConfig.LogGroup is a !Ref').toBeTypeOf('string');
      const group = template.Resources[logGroupId ?? ''];
      expect(group?.Type).toBe('AWS::Logs::LogGroup');
      expect(group?.Properties?.RetentionInDays).toEqual({ Ref: 'LogRetentionDays' });
      const sameGroup = functions.filter((f) => f.name === name && logGroupOf(f.resource) === logGroupId);
      expect(sameGroup).toHaveLength(1);
    });

    it('is built by esbuild as ESM with source maps', () => {
      expect(resource.Metadata?.BuildMethod).toBe('esbuild');
      const build = resource.Metadata?.BuildProperties as Json | undefined;
      expect(build).toMatchObject({ Format: 'esm', Target: 'es2022', Sourcemap: true, OutExtension: ['.js=.mjs'] });
      expect(props.CodeUri).toBe('../');
      expect(resolve(templateDir(name), String(props.CodeUri))).toBe(REPO_ROOT);
    });

    it('has a Handler that resolves to an exported handler in its entry file', async () => {
      const entryPoints = (resource.Metadata?.BuildProperties as Json | undefined)?.EntryPoints;
      expect(Array.isArray(entryPoints) && entryPoints.length === 1, 'exactly one entry point').toBe(true);
      const entry = String((entryPoints as unknown[])[0]);
      expect(props.Handler).toBe(`${basename(entry, '.ts')}.handler`);
      const source = await readFile(resolve(templateDir(name), String(props.CodeUri), entry), 'utf8');
      expect(source).toMatch(
        /export\s+(const|let)\s+handler\b|export\s+(async\s+)?function\s+handler\b|export\s*\{[^}]*\bhandler\b[^}]*\}/,
      );
    });
  });

  it('state machines log to a log group with a retention', () => {
    const machines = resourcesOfType(templates.workflows, 'AWS::Serverless::StateMachine');
    expect(machines.length).toBeGreaterThan(0);
    for (const [id, machine] of machines) {
      const logging = machine.Properties?.Logging as Json | undefined;
      const destination = (logging?.Destinations as Json[] | undefined)?.[0]?.CloudWatchLogsLogGroup as Json;
      const arn = destination?.LogGroupArn as { 'Fn::GetAtt': [string, string] } | undefined;
      const group = arn ? templates.workflows.Resources[arn['Fn::GetAtt'][0]] : undefined;
      expect(group?.Type, id).toBe('AWS::Logs::LogGroup');
      expect(group?.Properties?.RetentionInDays, id).toEqual({ Ref: 'LogRetentionDays' });
    }
  });

  it.each(names)('every reference in %s resolves', (name) => {
    const template = templates[name];
    const parameters = new Set(Object.keys(template.Parameters ?? {}));
    const resources = new Set(Object.keys(template.Resources));
    const conditions = new Set(Object.keys(template.Conditions ?? {}));
    const refs = collectReferences({
      Resources: template.Resources,
      Outputs: template.Outputs,
      Conditions: template.Conditions,
      Globals: template.Globals,
    });
    expect(refs.length).toBeGreaterThan(0);
    const unresolved = refs.filter((ref) => {
      switch (ref.kind) {
        case 'Condition':
          return !conditions.has(ref.target);
        case 'GetAtt':
          return !resources.has(ref.target);
        default:
          return ref.attribute === undefined
            ? !(parameters.has(ref.target) || resources.has(ref.target) || PSEUDO_PARAMETERS.has(ref.target))
            : !resources.has(ref.target);
      }
    });
    expect(unresolved).toEqual([]);

    for (const [id, resource] of Object.entries(template.Resources)) {
      for (const dependency of [resource.DependsOn ?? []].flat())
        expect(resources, `${id} DependsOn`).toContain(dependency);
      if (resource.Condition !== undefined) expect(conditions, `${id} Condition`).toContain(resource.Condition);
    }
  });

  it.each(names)('every parameter of %s is used', (name) => {
    const template = templates[name];
    const used = new Set(
      collectReferences({
        Resources: template.Resources,
        Outputs: template.Outputs,
        Conditions: template.Conditions,
        Globals: template.Globals,
      })
        .filter((ref) => ref.kind === 'Ref' || (ref.kind === 'Sub' && ref.attribute === undefined))
        .map((ref) => ref.target),
    );
    const unused = Object.keys(template.Parameters ?? {}).filter((p) => !used.has(p));
    expect(unused).toEqual([]);
  });

  describe('nested applications', () => {
    const applications = resourcesOfType(templates.root, 'AWS::Serverless::Application');

    it('the root nests db, shared, front, api and workflows', () => {
      expect(Object.fromEntries(applications.map(([id, app]) => [id, app.Properties?.Location]))).toEqual({
        Database: 'db/template.yaml',
        Shared: 'shared/template.yaml',
        Frontend: 'front/template.yaml',
        Api: 'api/template.yaml',
        Workflows: 'workflows/template.yaml',
      });
    });

    it.each(applications)('%s gets every required parameter and no unknown one', async (_id, app) => {
      const child = await loadCfnTemplate(resolve(REPO_ROOT, String(app.Properties?.Location)));
      const declared = child.Parameters ?? {};
      const passed = Object.keys((app.Properties?.Parameters as Json | undefined) ?? {});
      expect(passed.filter((p) => !(p in declared))).toEqual([]);
      const required = Object.entries(declared)
        .filter(([, p]) => p.Default === undefined)
        .map(([p]) => p);
      expect(required.filter((p) => !passed.includes(p))).toEqual([]);
    });

    it('every Outputs.X the root reads is an output of that child', async () => {
      const locations = Object.fromEntries(applications.map(([id, app]) => [id, String(app.Properties?.Location)]));
      const outputs = collectReferences(templates.root).filter(
        (ref) => ref.kind === 'GetAtt' && ref.target in locations && ref.attribute?.startsWith('Outputs.'),
      );
      expect(outputs.length).toBeGreaterThan(0);
      for (const ref of outputs) {
        const child = await loadCfnTemplate(resolve(REPO_ROOT, locations[ref.target] ?? ''));
        expect(Object.keys(child.Outputs ?? {}), ref.path).toContain(ref.attribute?.slice('Outputs.'.length));
      }
    });

    it.each(applications)(
      '%s gets every root parameter it shares a name with, unchanged (same name, same meaning)',
      async (id, app) => {
        const child = await loadCfnTemplate(resolve(REPO_ROOT, String(app.Properties?.Location)));
        const passed = (app.Properties?.Parameters as Json | undefined) ?? {};
        for (const key of Object.keys(templates.root.Parameters ?? {})) {
          // Not passing it would leave the child on its own default, silently ignoring the deployer's value.
          if (!(key in (child.Parameters ?? {}))) continue;
          // An empty AllowedOrigin means "the stack's own frontend": the root resolves it before passing it on.
          const expected =
            key === 'AllowedOrigin'
              ? { 'Fn::If': ['UseFrontendOrigin', { 'Fn::GetAtt': ['Frontend', 'Outputs.FrontendUrl'] }, { Ref: key }] }
              : { Ref: key };
          expect(passed[key], `${id}.${key}`).toEqual(expected);
        }
      },
    );
  });

  it('the distribution state machine substitutes every placeholder its ASL file uses', async () => {
    const [, machine] = resourcesOfType(templates.workflows, 'AWS::Serverless::StateMachine')[0] ?? [];
    const definitionUri = String(machine?.Properties?.DefinitionUri);
    const asl = await readFile(resolve(templateDir('workflows'), definitionUri), 'utf8');
    const used = new Set([...asl.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    const substitutions = Object.keys((machine?.Properties?.DefinitionSubstitutions as Json | undefined) ?? {});
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((name) => name !== undefined && !substitutions.includes(name))).toEqual([]);
    // docs/architecture.md, "The state machine's contract".
    expect(substitutions.sort()).toEqual(
      [
        'ConnectionPageSize',
        'DeliveryFailureRetentionSeconds',
        'DeliveryFailuresTableName',
        'PostBatchSize',
        'PostToConnectionsFunctionArn',
        'SubscriptionsTableName',
      ].sort(),
    );
  });

  it('every environment variable is one docs/architecture.md defines', async () => {
    const allowed = await architectureEnvironmentNames();
    expect(allowed).toContain('MANAGEMENT_API_ENDPOINT');
    allowed.add('NODE_OPTIONS');
    const variables = names.flatMap((name) => {
      const template = templates[name];
      const globals = ((template.Globals?.Function?.Environment as Json | undefined)?.Variables as Json) ?? {};
      return [
        ...Object.keys(globals),
        ...functions
          .filter((f) => f.name === name)
          .flatMap((f) =>
            Object.keys(((f.resource.Properties?.Environment as Json | undefined)?.Variables as Json) ?? {}),
          ),
      ];
    });
    expect(variables.length).toBeGreaterThan(0);
    expect([...new Set(variables)].filter((v) => !allowed.has(v))).toEqual([]);
  });

  it('a variable means the same thing in every function that has it', () => {
    const meaning = new Map<string, string>();
    for (const f of functions) {
      const variables = ((f.resource.Properties?.Environment as Json | undefined)?.Variables as Json) ?? {};
      for (const [key, value] of Object.entries(variables)) {
        const text = JSON.stringify(value);
        const seen = meaning.get(key);
        if (seen === undefined) meaning.set(key, text);
        // MANAGEMENT_API_ENDPOINT is built in api and passed to workflows as a parameter of the same value.
        else if (key !== 'MANAGEMENT_API_ENDPOINT') expect(text, `${f.name}/${f.id} ${key}`).toBe(seen);
      }
    }
  });
});
