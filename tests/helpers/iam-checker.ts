import type { CfnTemplate } from '../../local/cfn/template-loader.js';

/** What makes a statement broader than it needs to be. */
export type IamViolationKind =
  | 'wildcard-action'
  | 'wildcard-resource'
  | 'not-action'
  | 'not-resource'
  | 'broad-managed-policy';

/** One finding: where it is and why it is too broad. */
export interface IamViolation {
  /** Logical id of the resource holding the policy. */
  resource: string;
  /** Path to the offending statement or policy inside that resource. */
  path: string;
  kind: IamViolationKind;
  detail: string;
}

/**
 * Actions whose IAM authorization only accepts `Resource: '*'` (the Service Authorization Reference
 * lists no resource type for them), so '*' is the narrowest grant possible.
 */
export const ACTIONS_REQUIRING_STAR_RESOURCE: ReadonlySet<string> = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:GetSamplingStatisticSummaries',
  'cloudwatch:PutMetricData',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'dynamodb:ListStreams',
  'cognito-idp:ListUserPools',
  'sts:GetCallerIdentity',
]);

/** Managed policies that grant whole services; a function never needs them. */
const BROAD_MANAGED_POLICY = /(AdministratorAccess|PowerUserAccess|FullAccess)$/;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * The ARN text a Resource entry stands for, with `${...}` placeholders flattened, or undefined when
 * it is an intrinsic we cannot see through (Ref, GetAtt: those name one concrete resource).
 */
function resourceText(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (!isObject(entry)) return undefined;
  const sub = entry['Fn::Sub'];
  const template = Array.isArray(sub) ? sub[0] : sub;
  return typeof template === 'string' ? template.replace(/\$\{[^}]*\}/g, 'x') : undefined;
}

/** True for '*' and for ARNs whose resource part covers every resource of a type (`table/*`, `*`). */
function isWildcardResource(text: string): boolean {
  if (text === '*') return true;
  if (!text.startsWith('arn:')) return false;
  const parts = text.split(':');
  if (parts.length < 6) return false;
  const resource = parts.slice(5).join(':');
  return resource === '*' || /^[^/:*]+[/:]\*$/.test(resource);
}

function checkStatement(statement: unknown, resource: string, path: string): IamViolation[] {
  if (!isObject(statement) || statement.Effect === 'Deny') return [];
  const found: IamViolation[] = [];
  const add = (kind: IamViolationKind, detail: string) => found.push({ resource, path, kind, detail });

  if (statement.NotAction !== undefined) add('not-action', 'NotAction allows every action but the listed ones');
  if (statement.NotResource !== undefined) add('not-resource', 'NotResource allows every resource but the listed ones');

  const actions = asList(statement.Action).filter((a): a is string => typeof a === 'string');
  for (const action of actions) {
    if (action.includes('*')) add('wildcard-action', `action "${action}" is a wildcard`);
  }

  const narrowable = actions.filter((a) => !ACTIONS_REQUIRING_STAR_RESOURCE.has(a));
  for (const entry of asList(statement.Resource)) {
    const text = resourceText(entry);
    if (text === undefined || !isWildcardResource(text)) continue;
    if (text === '*' && narrowable.length === 0 && actions.length > 0) continue;
    add('wildcard-resource', `resource "${text}" for ${narrowable.join(', ') || 'every action'}`);
  }
  return found;
}

function checkDocument(document: unknown, resource: string, path: string): IamViolation[] {
  if (!isObject(document)) return [];
  return asList(document.Statement).flatMap((statement, i) =>
    checkStatement(statement, resource, `${path}.Statement[${i}]`),
  );
}

function checkManagedPolicy(name: unknown, resource: string, path: string): IamViolation[] {
  if (typeof name !== 'string' || !BROAD_MANAGED_POLICY.test(name)) return [];
  return [{ resource, path, kind: 'broad-managed-policy', detail: `managed policy "${name}" grants whole services` }];
}

/** SAM `Policies`: a managed policy name/ARN, an inline document, or a SAM policy template (left alone). */
function checkSamPolicies(policies: unknown, resource: string): IamViolation[] {
  return asList(policies).flatMap((policy, i) => {
    const path = `Properties.Policies[${i}]`;
    if (typeof policy === 'string') return checkManagedPolicy(policy, resource, path);
    if (isObject(policy) && 'Statement' in policy) return checkDocument(policy, resource, path);
    return [];
  });
}

/**
 * Finds IAM grants broader than they need to be in a template's explicit policy statements: wildcard
 * actions (`*`, `dynamodb:*`, `s3:Get*`), `Resource: '*'` for actions that accept a narrower resource,
 * ARNs covering every resource of a type, NotAction/NotResource, and whole-service managed policies.
 * SAM policy templates (`DynamoDBReadPolicy: {...}`) are not expanded. Deny statements are ignored.
 */
export function findIamViolations(template: CfnTemplate): IamViolation[] {
  return Object.entries(template.Resources).flatMap(([id, res]) => {
    const props = res.Properties ?? {};
    switch (res.Type) {
      case 'AWS::Serverless::Function':
      case 'AWS::Serverless::StateMachine':
        return checkSamPolicies(props.Policies, id);
      case 'AWS::IAM::Role':
        return [
          ...asList(props.Policies).flatMap((p, i) =>
            checkDocument(isObject(p) ? p.PolicyDocument : undefined, id, `Properties.Policies[${i}].PolicyDocument`),
          ),
          ...asList(props.ManagedPolicyArns).flatMap((arn, i) =>
            checkManagedPolicy(arn, id, `Properties.ManagedPolicyArns[${i}]`),
          ),
        ];
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::S3::BucketPolicy':
        return checkDocument(props.PolicyDocument, id, 'Properties.PolicyDocument');
      default:
        return [];
    }
  });
}
