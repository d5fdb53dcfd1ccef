import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidManifestError,
  invokeTargets,
  missingSampleEvents,
  parseSampleEventManifest,
  resolveInvokeTarget,
  UnknownInvokeTargetError,
  unknownManifestEntries,
} from '../../../local/sample-events.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, repoRoot } from '../../../local/stack.js';
import { type LocalStackModel, loadLocalStackModel } from '../../../local/stack-model.js';

const fakeFunctions = [{ logicalId: 'ConnectFunction' }, { logicalId: 'NewFunction' }, { logicalId: 'EmptyFunction' }];

describe('missingSampleEvents', () => {
  it('names every function the manifest has no event for, including an empty list', () => {
    const manifest = { ConnectFunction: ['websocket-connect.json'], EmptyFunction: [] };
    expect(missingSampleEvents(fakeFunctions, manifest)).toEqual(['NewFunction', 'EmptyFunction']);
  });

  it('is empty when every function has an event', () => {
    const manifest = { ConnectFunction: ['a.json'], NewFunction: ['b.json'], EmptyFunction: ['c.json'] };
    expect(missingSampleEvents(fakeFunctions, manifest)).toEqual([]);
  });

  it('is not fooled by inherited keys', () => {
    expect(missingSampleEvents([{ logicalId: 'toString' }], {})).toEqual(['toString']);
  });
});

describe('unknownManifestEntries', () => {
  it('names manifest keys that are not in the templates', () => {
    const manifest = { ConnectFunction: ['a.json'], RenamedFunction: ['b.json'] };
    expect(unknownManifestEntries(fakeFunctions, manifest)).toEqual(['RenamedFunction']);
  });
});

describe('parseSampleEventManifest', () => {
  it('accepts logical ids mapped to event file names', () => {
    expect(parseSampleEventManifest('{"ConnectFunction":["websocket-connect.json"]}')).toEqual({
      ConnectFunction: ['websocket-connect.json'],
    });
  });

  it.each([
    ['a path instead of a name', '{"ConnectFunction":["../secrets.json"]}'],
    ['a non-JSON file', '{"ConnectFunction":["connect.yaml"]}'],
    ['an empty list', '{"ConnectFunction":[]}'],
    ['a SAM path as key', '{"Api/ConnectFunction":["websocket-connect.json"]}'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseSampleEventManifest(text)).toThrow(InvalidManifestError);
  });
});

describe('resolveInvokeTarget', () => {
  let model: LocalStackModel;

  beforeAll(async () => {
    model = await loadLocalStackModel({
      templatePath: resolve(repoRoot, 'template.yaml'),
      stackName: 'switchboard',
      parameters: { AuthMode: 'none' },
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
    });
  });

  it('lists every function and state machine with its SAM CLI path', () => {
    const paths = invokeTargets(model).map((target) => target.path);
    expect(paths).toContain('Api/ConnectFunction');
    expect(paths).toContain('Workflows/MessageDistributionStateMachine');
    expect(paths).toHaveLength(model.functions.length + model.stateMachines.length);
  });

  it('accepts the logical id, the nested path, the name and the ARN', () => {
    const byPath = resolveInvokeTarget(model, 'Api/ConnectFunction');
    expect(byPath).toMatchObject({ kind: 'function', logicalId: 'ConnectFunction' });
    if (byPath.kind !== 'function') throw new Error('expected a function');
    expect(resolveInvokeTarget(model, 'ConnectFunction')).toEqual(byPath);
    expect(resolveInvokeTarget(model, byPath.fn.name).path).toBe('Api/ConnectFunction');
    expect(resolveInvokeTarget(model, byPath.fn.arn).path).toBe('Api/ConnectFunction');
    expect(resolveInvokeTarget(model, 'MessageDistributionStateMachine').kind).toBe('stateMachine');
  });

  it('refuses a path whose stack does not hold the function, listing what exists', () => {
    expect(() => resolveInvokeTarget(model, 'Api/MessagesStreamFunction')).toThrow(UnknownInvokeTargetError);
    expect(() => resolveInvokeTarget(model, 'NoSuchFunction')).toThrow(/Known: .*Workflows\/MessagesStreamFunction/);
  });
});
