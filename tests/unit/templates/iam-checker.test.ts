// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} strings are CloudFormation Fn::Sub syntax.
import { describe, expect, it } from 'vitest';
import { type CfnTemplate, loadAllTemplates, TEMPLATE_FILES, type TemplateName } from '../../helpers/cfn-template.js';
import { findIamViolations } from '../../helpers/iam-checker.js';

/** A template holding one SAM function whose only policy is the given statement. */
function functionWithStatement(statement: Record<string, unknown>): CfnTemplate {
  return {
    Resources: {
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: { Policies: [{ Statement: [statement] }] },
      },
    },
  };
}

const tableArn = { 'Fn::GetAtt': ['Table', 'Arn'] };

describe('findIamViolations', () => {
  it("flags Action: '*'", () => {
    const violations = findIamViolations(functionWithStatement({ Effect: 'Allow', Action: '*', Resource: tableArn }));
    expect(violations).toEqual([
      expect.objectContaining({ resource: 'Fn', kind: 'wildcard-action', path: 'Properties.Policies[0].Statement[0]' }),
    ]);
  });

  it('flags service-wide and partial action wildcards', () => {
    const violations = findIamViolations(
      functionWithStatement({ Effect: 'Allow', Action: ['dynamodb:*', 's3:Get*'], Resource: tableArn }),
    );
    expect(violations.map((v) => v.detail)).toEqual([
      'action "dynamodb:*" is a wildcard',
      'action "s3:Get*" is a wildcard',
    ]);
  });

  it("flags Resource: '*' for an action that accepts a narrower resource", () => {
    const violations = findIamViolations(
      functionWithStatement({ Effect: 'Allow', Action: ['dynamodb:GetItem', 'xray:PutTraceSegments'], Resource: '*' }),
    );
    expect(violations).toEqual([
      expect.objectContaining({ kind: 'wildcard-resource', detail: 'resource "*" for dynamodb:GetItem' }),
    ]);
  });

  it("accepts Resource: '*' for actions that only support '*'", () => {
    const statement = { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };
    expect(findIamViolations(functionWithStatement(statement))).toEqual([]);
  });

  it('flags ARNs that cover every resource of a type, also inside Fn::Sub', () => {
    const violations = findIamViolations(
      functionWithStatement({
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*' },
          'arn:aws:execute-api:us-east-1:123456789012:*',
          { 'Fn::Sub': '${TableArn}/index/user-index' },
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/prod/POST/@connections/*',
          },
        ],
      }),
    );
    expect(violations.map((v) => v.kind)).toEqual(['wildcard-resource', 'wildcard-resource']);
  });

  it('flags NotAction and NotResource but ignores Deny statements', () => {
    const template: CfnTemplate = {
      Resources: {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            Policies: [
              {
                PolicyName: 'p',
                PolicyDocument: {
                  Statement: [
                    { Effect: 'Allow', NotAction: 'iam:*', NotResource: tableArn },
                    { Effect: 'Deny', Action: '*', Resource: '*' },
                  ],
                },
              },
            ],
          },
        },
      },
    };
    expect(findIamViolations(template).map((v) => v.kind)).toEqual(['not-action', 'not-resource']);
  });

  it('flags whole-service managed policies and leaves SAM policy templates alone', () => {
    const template: CfnTemplate = {
      Resources: {
        Fn: {
          Type: 'AWS::Serverless::Function',
          Properties: { Policies: ['AmazonDynamoDBFullAccess', { DynamoDBReadPolicy: { TableName: 't' } }] },
        },
      },
    };
    expect(findIamViolations(template)).toEqual([expect.objectContaining({ kind: 'broad-managed-policy' })]);
  });

  it('checks resource policies such as SQS queue policies', () => {
    const template: CfnTemplate = {
      Resources: {
        QueuePolicy: {
          Type: 'AWS::SQS::QueuePolicy',
          Properties: {
            PolicyDocument: { Statement: { Effect: 'Allow', Principal: '*', Action: 'sqs:*', Resource: '*' } },
          },
        },
      },
    };
    expect(findIamViolations(template).map((v) => v.kind)).toEqual(['wildcard-action', 'wildcard-resource']);
  });
});

describe('the stack templates grant least privilege', async () => {
  const templates = await loadAllTemplates();

  it.each(Object.keys(TEMPLATE_FILES) as TemplateName[])('%s has no over-broad IAM statement', (name) => {
    expect(findIamViolations(templates[name])).toEqual([]);
  });

  it('every function and state machine has explicit statements the checker can see', () => {
    const withPolicies = ['api', 'workflows'] as const;
    for (const name of withPolicies) {
      for (const [id, resource] of Object.entries(templates[name].Resources)) {
        if (resource.Type !== 'AWS::Serverless::Function' && resource.Type !== 'AWS::Serverless::StateMachine') {
          continue;
        }
        // The authorizer only verifies tokens against public JWKS, and the example moderation hook only
        // reads its argument: they need no AWS permission at all.
        if (id === 'AuthorizerFunction' || id === 'ModerationExampleFunction') {
          expect(resource.Properties?.Policies, id).toBeUndefined();
          continue;
        }
        const policies = resource.Properties?.Policies;
        // A grant that exists only under a condition (the moderation hook's) is `!If [cond, {Statement}, NoValue]`.
        const explicit = (policy: unknown): boolean => {
          if (typeof policy !== 'object' || policy === null) return false;
          if ('Statement' in policy) return true;
          const branches = (policy as { 'Fn::If'?: unknown[] })['Fn::If'];
          return (
            Array.isArray(branches) &&
            branches.length === 3 &&
            explicit(branches[1]) &&
            JSON.stringify(branches[2]) === JSON.stringify({ Ref: 'AWS::NoValue' })
          );
        };
        expect(Array.isArray(policies) && policies.every(explicit), id).toBe(true);
      }
    }
  });
});
