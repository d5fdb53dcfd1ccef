import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkParameterOverrides,
  ParameterOverrideError,
  parseParameterOverrides,
} from '../../../../local/cfn/parameters.js';
import { LocalCfnStack } from '../../../../local/cfn/stack.js';
import { REPO_ROOT } from '../../../helpers/cfn-template.js';

const env = { region: 'us-east-1', accountId: '000000000000' };
const loadRoot = (parameters: Record<string, string>) =>
  LocalCfnStack.load(resolve(REPO_ROOT, 'template.yaml'), { name: 'switchboard', parameters, env });

describe('parseParameterOverrides', () => {
  it('splits each pair at its first "="', () => {
    expect(parseParameterOverrides(['Tracing=Active', 'AllowedOrigin=https://a.example/?x=1'])).toEqual({
      Tracing: 'Active',
      AllowedOrigin: 'https://a.example/?x=1',
    });
  });

  it('refuses a pair without a key or an "="', () => {
    expect(() => parseParameterOverrides(['Tracing'])).toThrow(ParameterOverrideError);
    expect(() => parseParameterOverrides(['=Active'])).toThrow(/Key=Value/);
  });
});

describe('checkParameterOverrides', () => {
  const declared = {
    Mode: { Type: 'String', AllowedValues: ['a', 'b'] },
    Size: { Type: 'Number', MinValue: 1, MaxValue: 10 },
    Stage: { Type: 'String', AllowedPattern: '[a-z]{1,4}' },
  };

  it('accepts declared parameters with allowed values', () => {
    expect(() => checkParameterOverrides(declared, { Mode: 'b', Size: '10', Stage: 'prod' })).not.toThrow();
  });

  it.each([
    [{ Nope: 'x' }, 'Parameters: [Nope] do not exist in the template'],
    [{ Mode: 'c' }, "Parameter 'Mode' must be one of AllowedValues (a, b)"],
    [{ Size: '0' }, "Parameter 'Size' must be a number not less than 1"],
    [{ Size: '11' }, "Parameter 'Size' must be a number not greater than 10"],
    [{ Size: 'ten' }, "Parameter 'Size' must be a number"],
    // AllowedPattern matches the whole value, as CloudFormation's does.
    [{ Stage: 'prod2' }, "Parameter 'Stage' must match pattern [a-z]{1,4}"],
  ])('refuses %j', (overrides, message) => {
    expect(() => checkParameterOverrides(declared, overrides)).toThrow(message);
  });
});

describe('the root template', () => {
  it('takes an override it declares, and nested stacks see it', async () => {
    const root = await loadRoot({ Tracing: 'Disabled', PostBatchSize: '25' });
    expect(root.parameter('Tracing')).toBe('Disabled');
  });

  it('refuses a mistyped key and a value outside AllowedValues before anything starts', async () => {
    await expect(loadRoot({ Tracng: 'Active' })).rejects.toThrow('Parameters: [Tracng] do not exist in the template');
    await expect(loadRoot({ Tracing: 'On' })).rejects.toThrow("Parameter 'Tracing' must be one of AllowedValues");
  });
});
