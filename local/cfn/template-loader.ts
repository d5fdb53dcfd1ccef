import { readFile } from 'node:fs/promises';
import {
  type CollectionTag,
  Pair,
  parseDocument,
  Scalar,
  type ScalarTag,
  type YAMLMap,
  YAMLMap as YamlMap,
} from 'yaml';

/** Any value a parsed template can hold, intrinsic functions included (in their long JSON form). */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };

/** A resource as written in the template (SAM resources are not expanded). */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** A template parameter declaration. */
export interface CfnParameter {
  Type: string;
  Default?: string | number;
  AllowedValues?: (string | number)[];
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
  Description?: string;
}

/** A template output. */
export interface CfnOutput {
  Value: unknown;
  Description?: string;
  Condition?: string;
  Export?: { Name: unknown };
}

/** A CloudFormation / SAM template with its short-form intrinsics already expanded. */
export interface CfnTemplate {
  AWSTemplateFormatVersion?: string;
  Transform?: string | string[];
  Description?: string;
  Metadata?: Record<string, unknown>;
  Parameters?: Record<string, CfnParameter>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Globals?: Record<string, Record<string, unknown>>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, CfnOutput>;
}

/** Thrown when a file is not a well-formed template: bad YAML, an unknown `!Tag`, or no Resources. */
export class CfnTemplateParseError extends Error {
  override name = 'CfnTemplateParseError';
}

/** Short-form tag → long-form key. `!Ref` and `!Condition` keep their bare names, the rest are `Fn::*`. */
const INTRINSICS: Readonly<Record<string, string>> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!GetAtt': 'Fn::GetAtt',
  '!Sub': 'Fn::Sub',
  '!If': 'Fn::If',
  '!Equals': 'Fn::Equals',
  '!Not': 'Fn::Not',
  '!And': 'Fn::And',
  '!Or': 'Fn::Or',
  '!Select': 'Fn::Select',
  '!Join': 'Fn::Join',
  '!Split': 'Fn::Split',
  '!FindInMap': 'Fn::FindInMap',
  '!ImportValue': 'Fn::ImportValue',
  '!GetAZs': 'Fn::GetAZs',
  '!Base64': 'Fn::Base64',
  '!Cidr': 'Fn::Cidr',
  '!Length': 'Fn::Length',
  '!ToJsonString': 'Fn::ToJsonString',
  '!Transform': 'Fn::Transform',
};

function wrap(key: string, node: unknown): YAMLMap {
  const map = new YamlMap();
  map.items.push(new Pair(new Scalar(key), node));
  return map;
}

/** `!GetAtt A.B.C` means resource A, attribute `B.C` (nested stack outputs contain a dot). */
function getAttFromString(value: string, onError: (message: string) => void): CfnValue {
  const dot = value.indexOf('.');
  if (dot <= 0 || dot === value.length - 1) {
    onError(`!GetAtt expects Resource.Attribute, got "${value}"`);
    return { 'Fn::GetAtt': [value] };
  }
  return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
}

function buildCustomTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [];
  for (const [tag, key] of Object.entries(INTRINSICS)) {
    tags.push({
      tag,
      identify: () => false,
      resolve: (value: string, onError: (message: string) => void): CfnValue =>
        key === 'Fn::GetAtt' ? getAttFromString(value, onError) : { [key]: value },
    });
    if (key === 'Ref' || key === 'Condition') continue;
    for (const collection of ['seq', 'map'] as const) {
      tags.push({ tag, collection, identify: () => false, resolve: (node) => wrap(key, node) });
    }
  }
  return tags;
}

const customTags = buildCustomTags();

/**
 * Parses template text (YAML or JSON). Short-form intrinsics become their long JSON forms, so
 * `!GetAtt Db.Outputs.X` reads as `{"Fn::GetAtt": ["Db", "Outputs.X"]}` and `!Ref P` as `{Ref: "P"}`.
 * @param source names the template in error messages.
 * @throws CfnTemplateParseError on a YAML error, an unknown tag, a duplicate key or a missing Resources map.
 */
export function parseCfnTemplate(text: string, source = 'template'): CfnTemplate {
  const doc = parseDocument(text, { customTags, uniqueKeys: true, prettyErrors: true });
  // Warnings include "Unresolved tag": an intrinsic we don't know must not silently become a string.
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    throw new CfnTemplateParseError(`${source}: ${problems.map((p) => p.message).join('\n')}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CfnTemplateParseError(`${source}: a template must be a mapping`);
  }
  const resources = (value as { Resources?: unknown }).Resources;
  if (typeof resources !== 'object' || resources === null || Array.isArray(resources)) {
    throw new CfnTemplateParseError(`${source}: a template needs a Resources mapping`);
  }
  return value as CfnTemplate;
}

/**
 * Reads and parses a CloudFormation / SAM template file.
 * @throws CfnTemplateParseError when the file is not a well-formed template.
 */
export async function loadCfnTemplate(path: string): Promise<CfnTemplate> {
  return parseCfnTemplate(await readFile(path, 'utf8'), path);
}
