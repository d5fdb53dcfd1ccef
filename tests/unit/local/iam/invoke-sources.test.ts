import { describe, expect, it } from 'vitest';
import { apiGatewaySourceArn } from '../../../../local/iam/invoke-sources.js';
import { evaluate, type PolicyDocument } from '../../../../local/iam/policy.js';

const apis = { webSocketApiId: 'ws1', webSocketAuthorizerId: 'auth1', httpApiId: 'http1' };
const source = (event: unknown) => apiGatewaySourceArn(event, apis, 'us-east-1', '000000000000');
const prefix = 'arn:aws:execute-api:us-east-1:000000000000:';

describe('apiGatewaySourceArn', () => {
  it('names a WebSocket route, an HTTP API route and the authorizers', () => {
    expect(source({ requestContext: { routeKey: '$connect', stage: 'prod' } })).toBe(`${prefix}ws1/prod/$connect`);
    expect(
      source({
        routeKey: 'GET /rooms/{room}/messages',
        requestContext: { stage: '$default', http: { method: 'GET' } },
      }),
    ).toBe(`${prefix}http1/$default/GET/rooms/{room}/messages`);
    expect(source({ type: 'REQUEST', methodArn: `${prefix}ws1/prod/$connect` })).toBe(`${prefix}ws1/authorizers/auth1`);
    expect(source({ type: 'REQUEST', routeArn: `${prefix}http1/$default/GET/rooms` })).toMatch(
      /^.*http1\/authorizers\//,
    );
  });

  it('satisfies the SourceArn SAM writes for an HttpApi event with a path parameter', () => {
    const fn = 'arn:aws:lambda:us-east-1:000000000000:function:F';
    const permission: PolicyDocument = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'apigateway.amazonaws.com' },
          Action: 'lambda:InvokeFunction',
          Resource: fn,
          Condition: { ArnLike: { 'AWS:SourceArn': `${prefix}http1/*/GET/rooms/*/messages` } },
        },
      ],
    };
    const sourceArn = source({
      routeKey: 'GET /rooms/{room}/messages',
      requestContext: { stage: '$default', http: { method: 'GET' } },
    });
    const request = {
      principal: { kind: 'service', service: 'apigateway.amazonaws.com' } as const,
      action: 'lambda:InvokeFunction',
      resource: fn,
      context: { 'aws:SourceArn': sourceArn ?? '' },
    };
    expect(evaluate(request, [], [permission]).allowed).toBe(true);
    expect(
      evaluate(
        { ...request, context: { 'aws:SourceArn': `${prefix}http1/$default/POST/rooms/x/messages` } },
        [],
        [permission],
      ).allowed,
    ).toBe(false);
  });
});
