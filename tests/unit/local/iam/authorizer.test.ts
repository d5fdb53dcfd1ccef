import { describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../../../local/aws-protocol.js';
import { ERROR_SHAPES, LocalIam } from '../../../../local/iam/authorizer.js';
import { credentialsForRole, OPERATOR_ROLE } from '../../../../local/iam/credentials.js';
import type { LocalIamModel } from '../../../../local/iam/roles.js';

const account = '000000000000';
const table = `arn:aws:dynamodb:us-east-1:${account}:table/T`;
const model: LocalIamModel = {
  roles: new Map([
    [
      'reader-role',
      {
        name: 'reader-role',
        arn: `arn:aws:iam::${account}:role/reader-role`,
        sessionArn: `arn:aws:sts::${account}:assumed-role/reader-role/reader`,
        samLogicalId: 'ReaderRole',
        templatePath: 'template.yaml',
        managedPolicyArns: [],
        inlinePolicies: [],
        policies: [{ Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: table }] }],
      },
    ],
  ]),
  resourcePolicies: new Map(),
  stateMachineRoles: new Map(),
  ruleTargetRoles: new Map(),
};
const signedAs = (role: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=${credentialsForRole(role).accessKeyId}/20261203/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x`,
});

function thrown(run: () => void): AwsServiceError {
  try {
    run();
  } catch (error) {
    if (error instanceof AwsServiceError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('LocalIam', () => {
  const logged: string[] = [];
  const iam = new LocalIam({ model, mode: 'enforce', accountId: account, log: (message) => logged.push(message) });

  it('knows a role by its access key, and refuses unknown and missing keys as AWS does', () => {
    expect(iam.principalOf(signedAs('reader-role'), ERROR_SHAPES.dynamodb)).toMatchObject({ roleName: 'reader-role' });
    expect(iam.principalOf(signedAs(OPERATOR_ROLE), ERROR_SHAPES.dynamodb)).toMatchObject({ roleName: OPERATOR_ROLE });
    const unknown = thrown(() => iam.principalOf(signedAs('no-such-role'), ERROR_SHAPES.dynamodb));
    expect([unknown.code, unknown.status]).toEqual(['UnrecognizedClientException', 400]);
    const missing = thrown(() => iam.principalOf({}, ERROR_SHAPES['execute-api']));
    expect([missing.code, missing.status, missing.message]).toEqual([
      'MissingAuthenticationTokenException',
      403,
      'Missing Authentication Token',
    ]);
  });

  it('allows what the role grants, allows the operator everything, and refuses the rest with the service shape', () => {
    const reader = iam.rolePrincipal('reader-role');
    expect(() =>
      iam.authorize(reader, [{ action: 'dynamodb:GetItem', resource: table }], ERROR_SHAPES.dynamodb),
    ).not.toThrow();
    expect(() =>
      iam.authorize(
        iam.rolePrincipal(OPERATOR_ROLE),
        [{ action: 'dynamodb:DeleteTable', resource: table }],
        ERROR_SHAPES.dynamodb,
      ),
    ).not.toThrow();
    const denied = thrown(() =>
      iam.authorize(
        reader,
        [
          { action: 'dynamodb:GetItem', resource: table },
          { action: 'dynamodb:PutItem', resource: table },
        ],
        ERROR_SHAPES.dynamodb,
      ),
    );
    expect([denied.code, denied.status, denied.options]).toEqual([
      'AccessDeniedException',
      400,
      { typePrefix: 'com.amazon.coral.service#', messageKey: 'Message' },
    ]);
    expect(denied.message).toContain('not authorized to perform: dynamodb:PutItem');
    expect(logged).toContain(`iam: denied dynamodb:PutItem on ${table}`);
  });

  it('counts requests per role and operation, and resets', () => {
    const reader = iam.rolePrincipal('reader-role');
    iam.resetRequests();
    iam.count(reader, 'dynamodb:GetItem');
    iam.count(reader, 'dynamodb:GetItem');
    iam.count({ kind: 'service', service: 'events.amazonaws.com' }, 'sqs:SendMessage');
    expect(iam.requests()).toEqual({
      'reader-role': { 'dynamodb:GetItem': 2 },
      'events.amazonaws.com': { 'sqs:SendMessage': 1 },
    });
    iam.resetRequests();
    expect(iam.requests()).toEqual({});
  });

  it('with mode off refuses nothing, unknown callers included, and still counts', () => {
    const off = new LocalIam({ model, mode: 'off', accountId: account });
    const anyone = off.principalOf({}, ERROR_SHAPES.sqs);
    expect(() => off.authorize(anyone, [{ action: 'sqs:DeleteQueue', resource: '*' }], ERROR_SHAPES.sqs)).not.toThrow();
    off.count(anyone, 'sqs:DeleteQueue');
    expect(off.requests()).toEqual({ anonymous: { 'sqs:DeleteQueue': 1 } });
  });
});
