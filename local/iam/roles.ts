import { readFileSync } from 'node:fs';
import type { LocalCfnStack } from '../cfn/stack.js';
import { functionRoleName } from './credentials.js';
import type { PolicyDocument, PolicyStatement } from './policy.js';

/**
 * The IAM roles and resource-based policies that SAM and CloudFormation would create from our
 * templates, built the way aws-sam-translator builds them (.ci/sam-roles.py checks that they match):
 * a function's role holds its inline `Policies`, AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess
 * unless `Tracing` is the literal `Disabled`, AWSLambdaDynamoDBExecutionRole for DynamoDB stream events,
 * and `sqs:SendMessage` for SQS on-failure destinations; a state machine's role holds its `Policies`,
 * and each of its EventBridgeRule events gets a role allowing `states:StartExecution` on it.
 * Resource policies: AWS::Lambda::Permission (plus those SAM adds for EventBridgeRule and HttpApi
 * events and HttpApi authorizers), AWS::SQS::QueuePolicy and AWS::S3::BucketPolicy.
 */

export interface IamRole {
  name: string;
  arn: string;
  /** The ARN a session of this role shows in denial messages (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`). */
  sessionArn: string;
  /** The logical id SAM gives the role, and the template it is generated from (for the SAM comparison). */
  samLogicalId: string;
  templatePath: string;
  managedPolicyArns: string[];
  inlinePolicies: PolicyDocument[];
  /** Every document that applies: inline ones, then the managed ones' contents. */
  policies: PolicyDocument[];
}

export interface LocalIamModel {
  roles: Map<string, IamRole>;
  /** Resource-based policies by resource ARN (a function, a queue). */
  resourcePolicies: Map<string, PolicyDocument[]>;
  /** The role each state machine runs as, by state machine ARN. */
  stateMachineRoles: Map<string, string>;
  /** The role EventBridge assumes to call a rule's target, by rule name (only targets that need one). */
  ruleTargetRoles: Map<string, string>;
}

/** A SAM policy template, or a property SAM would act on that the local stack does not model. */
export class UnsupportedSamFeatureError extends Error {
  override name = 'UnsupportedSamFeatureError';
}

const MANAGED_POLICY_ARNS: Record<string, string> = {
  AWSLambdaBasicExecutionRole: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
  AWSLambdaDynamoDBExecutionRole: 'arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole',
  AWSXrayWriteOnlyAccess: 'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess',
  AWSXRayDaemonWriteAccess: 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess',
};

const managedPolicyCache = new Map<string, PolicyDocument>();

/** The vendored contents of an AWS managed policy, by name or ARN. */
export function managedPolicy(nameOrArn: string): PolicyDocument {
  const name = nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1);
  let document = managedPolicyCache.get(name);
  if (!document) {
    if (!(name in MANAGED_POLICY_ARNS)) {
      throw new UnsupportedSamFeatureError(
        `managed policy ${nameOrArn} is not vendored in local/iam/managed-policies/; add its JSON document there`,
      );
    }
    document = JSON.parse(
      readFileSync(new URL(`./managed-policies/${name}.json`, import.meta.url), 'utf8'),
    ) as PolicyDocument;
    managedPolicyCache.set(name, document);
  }
  return document;
}

function managedPolicyArn(nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  const arn = MANAGED_POLICY_ARNS[nameOrArn];
  if (!arn) throw new UnsupportedSamFeatureError(`managed policy ${nameOrArn} is not vendored locally`);
  return arn;
}

/** The role a state machine runs as; locally named after it, like a function's. */
export function stateMachineRoleName(stateMachineName: string): string {
  return `${stateMachineName}-role`;
}

/** The role EventBridge assumes for a rule's target (SAM's `<Resource><Event>Role`). */
export function ruleTargetRoleName(ruleName: string): string {
  return `${ruleName}-target-role`;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface RoleBuilder {
  managed: string[];
  inline: PolicyDocument[];
}

/** SAM `Policies`: a managed policy name or ARN, an inline document, or a SAM policy template (refused). */
function addSamPolicies(stack: LocalCfnStack, logicalId: string, raw: unknown, role: RoleBuilder): void {
  if (raw === undefined) return;
  const entries = Array.isArray(raw) ? raw : [raw];
  for (const entry of entries) {
    const value = stack.evaluate(entry);
    if (typeof value === 'string') {
      role.managed.push(managedPolicyArn(value));
      managedPolicy(value);
    } else if (isObject(value) && 'Statement' in value) {
      role.inline.push(value as unknown as PolicyDocument);
    } else if (isObject(value)) {
      const [template] = Object.keys(value);
      throw new UnsupportedSamFeatureError(
        `${logicalId}: SAM policy template ${template} is not supported locally; write the statements inline`,
      );
    }
  }
}

/** SAM passes `Ref`s to parameters through its own resolver and gives up on anything else (`!If`...). */
function literalOf(stack: LocalCfnStack, raw: unknown): unknown {
  if (isObject(raw) && Object.keys(raw).length === 1 && 'Ref' in raw) return stack.evaluate(raw);
  return raw;
}

function sqsSend(destination: unknown): PolicyDocument {
  return { Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: String(destination) }] };
}

function destinationPolicies(logicalId: string, config: unknown): PolicyDocument[] {
  if (!isObject(config)) return [];
  const found: PolicyDocument[] = [];
  for (const [when, destination] of Object.entries(config)) {
    if (!isObject(destination) || destination.Type === undefined) continue;
    if (destination.Type !== 'SQS') {
      throw new UnsupportedSamFeatureError(
        `${logicalId}: ${when} destination type ${String(destination.Type)} is not supported locally`,
      );
    }
    if (destination.Destination === undefined) {
      throw new UnsupportedSamFeatureError(
        `${logicalId}: an SQS ${when} destination without a Destination ARN is not supported locally`,
      );
    }
    found.push(sqsSend(destination.Destination));
  }
  return found;
}

export interface IamModelOptions {
  region: string;
  accountId: string;
}

/** Builds every role and resource policy of the stack tree rooted at `root`. */
export function buildIamModel(root: LocalCfnStack, options: IamModelOptions): LocalIamModel {
  const { region, accountId } = options;
  const model: LocalIamModel = {
    roles: new Map(),
    resourcePolicies: new Map(),
    stateMachineRoles: new Map(),
    ruleTargetRoles: new Map(),
  };
  const functionArn = (name: string) =>
    name.startsWith('arn:') ? name : `arn:aws:lambda:${region}:${accountId}:function:${name}`;
  const addRole = (
    name: string,
    session: string,
    samLogicalId: string,
    templatePath: string,
    builder: RoleBuilder,
  ): void => {
    if (model.roles.has(name)) throw new Error(`two resources would share the local role ${name}`);
    model.roles.set(name, {
      name,
      arn: `arn:aws:iam::${accountId}:role/${name}`,
      sessionArn: `arn:aws:sts::${accountId}:assumed-role/${name}/${session}`,
      samLogicalId,
      templatePath,
      managedPolicyArns: builder.managed,
      inlinePolicies: builder.inline,
      policies: [...builder.inline, ...builder.managed.map(managedPolicy)],
    });
  };
  const addResourcePolicy = (resourceArn: string, statement: PolicyStatement): void => {
    const list = model.resourcePolicies.get(resourceArn) ?? [];
    list.push({ Version: '2012-10-17', Statement: [statement] });
    model.resourcePolicies.set(resourceArn, list);
  };
  const lambdaPermission = (
    fnArn: string,
    principal: string,
    sourceArn: string | undefined,
    sourceAccount?: string,
  ): void => {
    const condition: NonNullable<PolicyStatement['Condition']> = {};
    if (sourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': sourceArn };
    if (sourceAccount !== undefined) condition.StringEquals = { 'AWS:SourceAccount': sourceAccount };
    addResourcePolicy(fnArn, {
      Effect: 'Allow',
      Principal: principal.includes('.') ? { Service: principal } : { AWS: principal },
      Action: 'lambda:InvokeFunction',
      Resource: fnArn,
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    });
  };
  const ruleArn = (busName: unknown, ruleName: string): string => {
    const bus =
      busName === undefined || busName === 'default' ? '' : `${String(busName).replace(/^.*:event-bus\//, '')}/`;
    return `arn:aws:events:${region}:${accountId}:rule/${bus}${ruleName}`;
  };

  for (const stack of root.all()) {
    const globals = (stack.template.Globals?.Function ?? {}) as Json;
    for (const [logicalId, resource] of stack.resources('AWS::Serverless::Function')) {
      const props = resource.Properties ?? {};
      const name = stack.physicalName(logicalId);
      const arn = functionArn(name);
      const role: RoleBuilder = { managed: [MANAGED_POLICY_ARNS.AWSLambdaBasicExecutionRole as string], inline: [] };
      const tracing = literalOf(stack, props.Tracing ?? globals.Tracing);
      if (tracing !== undefined && tracing !== 'Disabled') {
        role.managed.push(MANAGED_POLICY_ARNS.AWSXrayWriteOnlyAccess as string);
      }
      if (props.Role !== undefined) {
        throw new UnsupportedSamFeatureError(`${logicalId}: an explicit Role is not modelled locally; use Policies`);
      }
      addSamPolicies(stack, logicalId, props.Policies, role);
      const events = (props.Events ?? {}) as Record<string, { Type: string; Properties?: unknown }>;
      for (const [eventId, event] of Object.entries(events)) {
        const eventProps = (stack.evaluate(event.Properties ?? {}) ?? {}) as Json;
        switch (event.Type) {
          case 'DynamoDB':
            role.managed.push(MANAGED_POLICY_ARNS.AWSLambdaDynamoDBExecutionRole as string);
            role.inline.push(...destinationPolicies(`${logicalId}.${eventId}`, eventProps.DestinationConfig));
            break;
          case 'EventBridgeRule':
            lambdaPermission(arn, 'events.amazonaws.com', ruleArn(eventProps.EventBusName, `${logicalId}${eventId}`));
            break;
          case 'HttpApi': {
            const apiId = eventProps.ApiId ?? stack.ref('ServerlessHttpApi');
            const method = String(eventProps.Method ?? 'ANY').toUpperCase();
            const path = String(eventProps.Path ?? '/{proxy+}').replace(/\{[^}]+\}/g, '*');
            lambdaPermission(
              arn,
              'apigateway.amazonaws.com',
              `arn:aws:execute-api:${region}:${accountId}:${String(apiId)}/*/${method === 'ANY' ? '*' : method}${path}`,
            );
            break;
          }
          default:
            throw new UnsupportedSamFeatureError(
              `${logicalId}.${eventId}: ${event.Type} events are not modelled locally`,
            );
        }
      }
      const invokeConfig = stack.evaluate(props.EventInvokeConfig ?? globals.EventInvokeConfig) as Json | undefined;
      role.inline.push(...destinationPolicies(`${logicalId}.EventInvokeConfig`, invokeConfig?.DestinationConfig));
      addRole(functionRoleName(name), name, `${logicalId}Role`, stack.templatePath, role);
    }

    for (const [logicalId, resource] of stack.resources('AWS::Serverless::StateMachine')) {
      const props = resource.Properties ?? {};
      const name = stack.physicalName(logicalId);
      const arn = stack.arnOf(logicalId);
      const role: RoleBuilder = { managed: [], inline: [] };
      const tracing = props.Tracing as Json | undefined;
      if (tracing?.Enabled === true) role.managed.push(MANAGED_POLICY_ARNS.AWSXRayDaemonWriteAccess as string);
      addSamPolicies(stack, logicalId, props.Policies, role);
      const roleName = stateMachineRoleName(name);
      addRole(roleName, name, `${logicalId}Role`, stack.templatePath, role);
      model.stateMachineRoles.set(arn, roleName);
      const events = (props.Events ?? {}) as Record<string, { Type: string }>;
      for (const [eventId, event] of Object.entries(events)) {
        if (event.Type !== 'EventBridgeRule') {
          throw new UnsupportedSamFeatureError(
            `${logicalId}.${eventId}: ${event.Type} events are not modelled locally`,
          );
        }
        const ruleName = `${logicalId}${eventId}`;
        const targetRole = ruleTargetRoleName(ruleName);
        addRole(targetRole, 'events', `${ruleName}Role`, stack.templatePath, {
          managed: [],
          inline: [{ Statement: [{ Effect: 'Allow', Action: 'states:StartExecution', Resource: arn }] }],
        });
        model.ruleTargetRoles.set(ruleName, targetRole);
      }
    }

    for (const [logicalId, api] of stack.resources('AWS::Serverless::HttpApi')) {
      const auth = (api.Properties?.Auth ?? {}) as Json;
      for (const authorizer of Object.values((auth.Authorizers ?? {}) as Record<string, Json>)) {
        if (authorizer.FunctionArn === undefined || authorizer.EnableFunctionDefaultPermissions !== true) continue;
        lambdaPermission(
          functionArn(String(stack.evaluate(authorizer.FunctionArn))),
          'apigateway.amazonaws.com',
          `arn:aws:execute-api:${region}:${accountId}:${String(stack.ref(logicalId))}/authorizers/*`,
        );
      }
    }

    for (const [, resource] of stack.resources('AWS::Lambda::Permission')) {
      const props = (stack.evaluate(resource.Properties ?? {}) ?? {}) as Json;
      if (props.Action !== 'lambda:InvokeFunction') continue;
      lambdaPermission(
        functionArn(String(props.FunctionName)),
        String(props.Principal),
        props.SourceArn === undefined ? undefined : String(props.SourceArn),
        props.SourceAccount === undefined ? undefined : String(props.SourceAccount),
      );
    }

    // A bucket policy covers the bucket and its objects; the authorizer looks objects up by their bucket.
    for (const [, resource] of stack.resources('AWS::S3::BucketPolicy')) {
      const props = (stack.evaluate(resource.Properties ?? {}) ?? {}) as Json;
      const bucketArn = `arn:aws:s3:::${String(props.Bucket)}`;
      const list = model.resourcePolicies.get(bucketArn) ?? [];
      list.push(props.PolicyDocument as PolicyDocument);
      model.resourcePolicies.set(bucketArn, list);
    }

    for (const [, resource] of stack.resources('AWS::SQS::QueuePolicy')) {
      const props = (stack.evaluate(resource.Properties ?? {}) ?? {}) as Json;
      const document = props.PolicyDocument as PolicyDocument;
      for (const url of (props.Queues ?? []) as string[]) {
        const queueName = url.slice(url.lastIndexOf('/') + 1);
        const queueArn = `arn:aws:sqs:${region}:${accountId}:${queueName}`;
        const list = model.resourcePolicies.get(queueArn) ?? [];
        list.push(document);
        model.resourcePolicies.set(queueArn, list);
      }
    }
  }
  return model;
}
