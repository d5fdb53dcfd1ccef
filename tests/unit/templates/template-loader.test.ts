// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} strings are CloudFormation Fn::Sub syntax.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CfnTemplateParseError, loadCfnTemplate, parseCfnTemplate } from '../../helpers/cfn-template.js';

/** Parses `value` as the only property of one resource and returns it. */
function parseValue(value: string): unknown {
  const template = parseCfnTemplate(`Resources:\n  R:\n    Type: Test\n    Properties:\n      v: ${value}\n`);
  return template.Resources.R?.Properties?.v;
}

describe('parseCfnTemplate', () => {
  it.each([
    ['!Ref Stage', { Ref: 'Stage' }],
    ['!Condition IsProd', { Condition: 'IsProd' }],
    ['!GetAtt Table.Arn', { 'Fn::GetAtt': ['Table', 'Arn'] }],
    ['!GetAtt Database.Outputs.TableName', { 'Fn::GetAtt': ['Database', 'Outputs.TableName'] }],
    ['!GetAtt [Table, StreamArn]', { 'Fn::GetAtt': ['Table', 'StreamArn'] }],
    ['!Sub arn:${AWS::Partition}:x', { 'Fn::Sub': 'arn:${AWS::Partition}:x' }],
    ["!Sub ['${A}-b', {A: !Ref P}]", { 'Fn::Sub': ['${A}-b', { A: { Ref: 'P' } }] }],
    ['!If [C, a, !Ref AWS::NoValue]', { 'Fn::If': ['C', 'a', { Ref: 'AWS::NoValue' }] }],
    ['!Not [!Equals [!Ref M, none]]', { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'M' }, 'none'] }] }],
    ["!Select [0, !GetAZs '']", { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }],
    ["!Join ['', [!Split [',', 'a,b']]]", { 'Fn::Join': ['', [{ 'Fn::Split': [',', 'a,b'] }]] }],
    ['!FindInMap [M, !Ref AWS::Region, k]', { 'Fn::FindInMap': ['M', { Ref: 'AWS::Region' }, 'k'] }],
    ['!ImportValue shared-bus', { 'Fn::ImportValue': 'shared-bus' }],
    ['!Base64 {"Fn::Sub": "x"}', { 'Fn::Base64': { 'Fn::Sub': 'x' } }],
    ['!And [!Condition A, !Condition B]', { 'Fn::And': [{ Condition: 'A' }, { Condition: 'B' }] }],
  ])('%s', (source, expected) => {
    expect(parseValue(source)).toEqual(expected);
  });

  it('keeps plain YAML values as they are (no YAML 1.1 surprises)', () => {
    const template = parseCfnTemplate(
      "AWSTemplateFormatVersion: 2010-09-09\nResources: {R: {Type: T, Properties: {a: 14, b: true, c: 'on'}}}",
    );
    expect(template.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(template.Resources.R?.Properties).toEqual({ a: 14, b: true, c: 'on' });
  });

  it('rejects an unknown tag instead of reading it as a string', () => {
    expect(() => parseValue('!Reff Stage')).toThrow(CfnTemplateParseError);
  });

  it('rejects duplicate keys, which CloudFormation rejects too', () => {
    expect(() => parseCfnTemplate('Resources:\n  A: {Type: T}\n  A: {Type: U}\n')).toThrow(/unique/);
  });

  it('rejects a document without Resources', () => {
    expect(() => parseCfnTemplate('Parameters: {}\n')).toThrow(/Resources/);
  });

  it('rejects !GetAtt without an attribute', () => {
    expect(() => parseValue('!GetAtt Table')).toThrow(CfnTemplateParseError);
  });
});

describe('loadCfnTemplate', () => {
  it('reads a template file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfn-loader-'));
    try {
      const good = join(dir, 'good.yaml');
      const bad = join(dir, 'bad.yaml');
      await writeFile(good, 'Resources:\n  Bus:\n    Type: AWS::Events::EventBus\n    Properties: {Name: !Ref N}\n');
      await writeFile(bad, 'Resources: [\n');
      expect((await loadCfnTemplate(good)).Resources.Bus?.Properties).toEqual({ Name: { Ref: 'N' } });
      await expect(loadCfnTemplate(bad)).rejects.toThrow(bad);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
