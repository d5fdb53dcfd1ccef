import { describe, expect, it } from 'vitest';
import {
  type AuthorizationRequest,
  denialMessage,
  evaluate,
  type PolicyDocument,
  type Principal,
  UnsupportedConditionError,
  wildcardMatch,
} from '../../../../local/iam/policy.js';

const role: Principal = {
  kind: 'role',
  roleName: 'fn-role',
  roleArn: 'arn:aws:iam::000000000000:role/fn-role',
  sessionArn: 'arn:aws:sts::000000000000:assumed-role/fn-role/fn',
};
const events: Principal = { kind: 'service', service: 'events.amazonaws.com' };
const table = 'arn:aws:dynamodb:us-east-1:000000000000:table/Messages';

const allow = (Action: string | string[], Resource: string | string[]): PolicyDocument => ({
  Statement: [{ Effect: 'Allow', Action, Resource }],
});
const request = (
  action: string,
  resource: string,
  principal: Principal = role,
  context = {},
): AuthorizationRequest => ({
  principal,
  action,
  resource,
  context,
});

describe('wildcardMatch', () => {
  it('matches * across segments and ? as one character', () => {
    expect(wildcardMatch('arn:aws:dynamodb:*:*:table/Messages/index/*', `${table}/index/pending-index`)).toBe(true);
    expect(
      wildcardMatch('arn:aws:sqs:us-east-1:000000000000:Queue?', 'arn:aws:sqs:us-east-1:000000000000:Queue1'),
    ).toBe(true);
    expect(
      wildcardMatch('arn:aws:sqs:us-east-1:000000000000:Queue?', 'arn:aws:sqs:us-east-1:000000000000:Queue12'),
    ).toBe(false);
    expect(wildcardMatch('a.b', 'axb')).toBe(false);
  });
});

describe('evaluate', () => {
  it('allows an action on a resource an identity policy grants, and nothing else', () => {
    const policies = [allow(['dynamodb:GetItem', 'dynamodb:Query'], table)];
    expect(evaluate(request('dynamodb:GetItem', table), policies)).toEqual({ allowed: true });
    expect(evaluate(request('dynamodb:PutItem', table), policies)).toEqual({ allowed: false, reason: 'no-allow' });
    expect(evaluate(request('dynamodb:Query', `${table}/index/pending-index`), policies)).toEqual({
      allowed: false,
      reason: 'no-allow',
    });
  });

  it('compares actions without case and resources with case', () => {
    expect(evaluate(request('dynamodb:getitem', table), [allow('DynamoDB:GetItem', table)]).allowed).toBe(true);
    expect(evaluate(request('dynamodb:GetItem', table.toLowerCase()), [allow('dynamodb:GetItem', table)]).allowed).toBe(
      false,
    );
    expect(evaluate(request('dynamodb:DeleteItem', table), [allow('dynamodb:*', '*')]).allowed).toBe(true);
    expect(evaluate(request('dynamodb:GetItem', table), [allow('dynamodb:Get*', table)]).allowed).toBe(true);
  });

  it('lets an explicit Deny win over any Allow, in identity or resource policies', () => {
    const deny: PolicyDocument = { Statement: [{ Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: '*' }] };
    expect(evaluate(request('dynamodb:DeleteItem', table), [allow('dynamodb:*', '*'), deny])).toEqual({
      allowed: false,
      reason: 'explicit-deny-identity',
    });
    const queue = 'arn:aws:sqs:us-east-1:000000000000:Q';
    const denyAll: PolicyDocument = {
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 'sqs:*', Resource: queue }],
    };
    expect(evaluate(request('sqs:SendMessage', queue), [allow('sqs:SendMessage', queue)], [denyAll])).toEqual({
      allowed: false,
      reason: 'explicit-deny-resource',
    });
  });

  it('understands NotAction and NotResource', () => {
    const policy: PolicyDocument = {
      Statement: [{ Effect: 'Allow', NotAction: 'dynamodb:DeleteItem', NotResource: `${table}-secret` }],
    };
    expect(evaluate(request('dynamodb:PutItem', table), [policy]).allowed).toBe(true);
    expect(evaluate(request('dynamodb:DeleteItem', table), [policy]).allowed).toBe(false);
    expect(evaluate(request('dynamodb:PutItem', `${table}-secret`), [policy]).allowed).toBe(false);
  });

  it('allows through a resource policy that names the principal, with its conditions', () => {
    const queue = 'arn:aws:sqs:us-east-1:000000000000:DLQ';
    const queuePolicy: PolicyDocument = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queue,
          Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/bus/*' } },
        },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: queue,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    };
    const fromRule = {
      'aws:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/bus/R',
      'aws:SecureTransport': 'true',
    };
    expect(evaluate(request('sqs:SendMessage', queue, events, fromRule), [], [queuePolicy]).allowed).toBe(true);
    expect(
      evaluate(
        request('sqs:SendMessage', queue, events, {
          ...fromRule,
          'aws:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/R',
        }),
        [],
        [queuePolicy],
      ),
    ).toEqual({ allowed: false, reason: 'no-allow' });
    expect(
      evaluate(
        request('sqs:SendMessage', queue, events, { ...fromRule, 'aws:SecureTransport': 'false' }),
        [],
        [queuePolicy],
      ),
    ).toEqual({
      allowed: false,
      reason: 'explicit-deny-resource',
    });
    // A role the policy does not name gets nothing from it, and a service has no identity policies.
    expect(evaluate(request('sqs:SendMessage', queue, role, fromRule), [], [queuePolicy]).allowed).toBe(false);
    expect(evaluate(request('sqs:SendMessage', queue, events, fromRule), [allow('sqs:*', '*')]).allowed).toBe(false);
  });

  it('lets a same-account principal in via a resource policy naming the account', () => {
    const fn = 'arn:aws:lambda:us-east-1:000000000000:function:F';
    const policy: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Principal: { AWS: '000000000000' }, Action: 'lambda:InvokeFunction', Resource: fn },
      ],
    };
    expect(evaluate(request('lambda:InvokeFunction', fn), [], [policy]).allowed).toBe(true);
  });

  it('treats a missing condition key as no match, except for negated operators and IfExists', () => {
    const withCondition = (
      Condition: NonNullable<PolicyDocument['Statement']> extends unknown
        ? Record<string, Record<string, string>>
        : never,
    ): PolicyDocument => ({
      Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*', Condition }],
    });
    const send = request('sqs:SendMessage', 'arn:aws:sqs:us-east-1:000000000000:Q');
    expect(evaluate(send, [withCondition({ StringEquals: { 'aws:SourceAccount': '1' } })]).allowed).toBe(false);
    expect(evaluate(send, [withCondition({ StringNotEquals: { 'aws:SourceAccount': '1' } })]).allowed).toBe(true);
    expect(evaluate(send, [withCondition({ StringEqualsIfExists: { 'aws:SourceAccount': '1' } })]).allowed).toBe(true);
    expect(evaluate(send, [withCondition({ Null: { 'aws:SourceAccount': 'true' } })]).allowed).toBe(true);
    expect(
      evaluate({ ...send, context: { 'aws:SourceAccount': '000000000000' } }, [
        withCondition({ StringLike: { 'aws:sourceaccount': '0*' } }),
      ]).allowed,
    ).toBe(true);
  });

  it('fails closed on a condition operator it does not know', () => {
    const policy: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      ],
    };
    expect(() => evaluate(request('sqs:SendMessage', '*'), [policy])).toThrow(UnsupportedConditionError);
    const setOperator: PolicyDocument = {
      Statement: [
        {
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
          Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'a' } },
        },
      ],
    };
    expect(() => evaluate(request('sqs:SendMessage', '*'), [setOperator])).toThrow(/ForAnyValue:StringEquals/);
  });
});

describe('denialMessage', () => {
  it("reads like AWS's", () => {
    const req = request('dynamodb:GetItem', table);
    expect(denialMessage(req, { allowed: false, reason: 'no-allow' })).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/fn-role/fn is not authorized to perform: dynamodb:GetItem on resource: ${table} because no identity-based policy allows the dynamodb:GetItem action`,
    );
    expect(denialMessage(req, { allowed: false, reason: 'explicit-deny-identity' })).toMatch(
      /with an explicit deny in an identity-based policy$/,
    );
  });
});
