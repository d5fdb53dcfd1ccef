import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIam } from '../../../../local/iam/authorizer.js';
import { credentialsForRole } from '../../../../local/iam/credentials.js';
import type { LocalIamModel } from '../../../../local/iam/roles.js';
import { type LocalInvokeApi, startLocalInvokeApi } from '../../../../local/lambda/invoke-api.js';
import { FunctionError, type InvokeOptions, TooManyRequestsError } from '../../../../local/lambda/service.js';

const account = '000000000000';
const arnOf = (name: string) => `arn:aws:lambda:us-east-1:${account}:function:${name}`;
const model: LocalIamModel = {
  roles: new Map([
    [
      'caller-role',
      {
        name: 'caller-role',
        arn: `arn:aws:iam::${account}:role/caller-role`,
        sessionArn: `arn:aws:sts::${account}:assumed-role/caller-role/caller`,
        samLogicalId: 'CallerRole',
        templatePath: 'template.yaml',
        managedPolicyArns: [],
        inlinePolicies: [],
        policies: [
          {
            Statement: [
              {
                Effect: 'Allow',
                Action: 'lambda:InvokeFunction',
                Resource: [arnOf('echo'), arnOf('broken'), arnOf('busy'), arnOf('missing')],
              },
            ],
          },
        ],
      },
    ],
    [
      'other-role',
      {
        name: 'other-role',
        arn: `arn:aws:iam::${account}:role/other-role`,
        sessionArn: `arn:aws:sts::${account}:assumed-role/other-role/other`,
        samLogicalId: 'OtherRole',
        templatePath: 'template.yaml',
        managedPolicyArns: [],
        inlinePolicies: [],
        policies: [],
      },
    ],
  ]),
  resourcePolicies: new Map(),
  stateMachineRoles: new Map(),
  ruleTargetRoles: new Map(),
};

const calls: Array<{ name: string; event: unknown; type: InvokeOptions['invocationType'] }> = [];
let api: LocalInvokeApi;

beforeAll(async () => {
  api = await startLocalInvokeApi({
    host: '127.0.0.1',
    port: 0,
    iam: new LocalIam({ model, mode: 'enforce', accountId: account }),
    resolveFunction: (nameOrArn) => {
      const name = nameOrArn.replace(/^arn:.*:function:/, '');
      return { arn: arnOf(name), exists: ['echo', 'broken', 'busy'].includes(name) };
    },
    functions: {
      async invoke(name, event, options) {
        calls.push({ name, event, type: options?.invocationType });
        if (name.endsWith(':broken')) throw new FunctionError({ errorType: 'TypeError', errorMessage: 'nope' });
        if (name.endsWith(':busy')) throw new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded');
        return { echoed: event };
      },
    },
  });
});
afterAll(() => api?.close());

function clientAs(role: string): LambdaClient {
  return new LambdaClient({
    endpoint: api.url,
    region: 'us-east-1',
    credentials: credentialsForRole(role),
    maxAttempts: 1,
  });
}
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const read = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('the local Lambda Invoke API', () => {
  it('answers a RequestResponse invoke with the result, by name or ARN', async () => {
    const client = clientAs('caller-role');
    const byName = await client.send(new InvokeCommand({ FunctionName: 'echo', Payload: json({ a: 1 }) }));
    expect([byName.StatusCode, byName.ExecutedVersion, read(byName.Payload)]).toEqual([
      200,
      '$LATEST',
      { echoed: { a: 1 } },
    ]);
    const byArn = await client.send(new InvokeCommand({ FunctionName: arnOf('echo'), Payload: json('x') }));
    expect(read(byArn.Payload)).toEqual({ echoed: 'x' });
    client.destroy();
  });

  it('answers a function error as 200 with X-Amz-Function-Error and the error payload', async () => {
    const client = clientAs('caller-role');
    const answer = await client.send(new InvokeCommand({ FunctionName: 'broken' }));
    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBe('Unhandled');
    expect(read(answer.Payload)).toEqual({ errorType: 'TypeError', errorMessage: 'nope' });
    client.destroy();
  });

  it('queues an Event invoke (202) and checks a DryRun (204) without running it', async () => {
    const client = clientAs('caller-role');
    calls.length = 0;
    const event = await client.send(
      new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: json({ b: 2 }) }),
    );
    expect(event.StatusCode).toBe(202);
    const dry = await client.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    expect(calls).toEqual([{ name: arnOf('echo'), event: { b: 2 }, type: 'Event' }]);
    client.destroy();
  });

  it("refuses with Lambda's errors: no grant, unknown function, throttled, not JSON", async () => {
    const other = clientAs('other-role');
    await expect(other.send(new InvokeCommand({ FunctionName: 'echo' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    // Without the grant, an unknown function is refused the same way: IAM answers before Lambda looks.
    await expect(other.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    other.destroy();
    const caller = clientAs('caller-role');
    await expect(caller.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
      message: `Function not found: ${arnOf('missing')}`,
    });
    await expect(caller.send(new InvokeCommand({ FunctionName: 'busy' }))).rejects.toMatchObject({
      name: 'TooManyRequestsException',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      $metadata: { httpStatusCode: 429 },
    });
    await expect(
      caller.send(new InvokeCommand({ FunctionName: 'echo', Payload: new TextEncoder().encode('{not json') })),
    ).rejects.toMatchObject({ name: 'InvalidRequestContentException', $metadata: { httpStatusCode: 400 } });
    caller.destroy();
  });

  it('refuses an unsigned request', async () => {
    const response = await fetch(`${api.url}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });
});
