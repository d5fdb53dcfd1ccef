import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createMessageReviewer } from '#aws/adapters/message-reviewer';
import { DEFAULT_DENY_REASON, MAX_REASON_LENGTH, ReviewFailedError, type ReviewRequest } from '#core/domain/moderation';

const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

const request: ReviewRequest = {
  Content: 'hello',
  MessageId: 'm-1',
  Action: 'send',
  Kind: 'room',
  Room: 'general',
  Sender: { UserId: 'alice', UserName: 'Alice' },
};

/** An Invoke payload as the SDK hands it over: bytes that can also turn themselves into a string. */
function payload(value: unknown): NonNullable<InvokeCommandOutput['Payload']> {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
}
const reviewer = () =>
  createMessageReviewer(new LambdaClient({ region: 'us-east-1' }), { functionName: 'hook', timeoutMs: 1000 });

async function failure(promise: Promise<unknown>): Promise<ReviewFailedError> {
  const error = await promise.catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(ReviewFailedError);
  return error as ReviewFailedError;
}

describe('the Lambda message reviewer', () => {
  it('invokes the hook synchronously with the request as JSON', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ ReviewResult: 'ALLOW' }) });
    expect(await reviewer().review(request)).toEqual({ result: 'allow', content: 'hello' });
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('hook');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual(request);
  });

  it('takes new Content as a modify, and a DENY with its reason, or a default one, cut to length', async () => {
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ Payload: payload({ ReviewResult: 'ALLOW', Content: 'HELLO' }) })
      .resolvesOnce({ Payload: payload({ ReviewResult: 'DENY' }) })
      .resolvesOnce({ Payload: payload({ ReviewResult: 'DENY', Attributes: { Reason: 'x'.repeat(900) } }) });
    const hook = reviewer();
    expect(await hook.review(request)).toEqual({ result: 'allow', content: 'HELLO' });
    expect(await hook.review(request)).toEqual({ result: 'deny', reason: DEFAULT_DENY_REASON });
    expect(await hook.review(request)).toEqual({ result: 'deny', reason: 'x'.repeat(MAX_REASON_LENGTH) });
  });

  it.each([
    ['not JSON', 'ALLOW'],
    ['an unknown result', { ReviewResult: 'MODIFY', Content: 'x' }],
    ['empty new text', { ReviewResult: 'ALLOW', Content: '   ' }],
    ['new text over 4000 characters', { ReviewResult: 'ALLOW', Content: 'x'.repeat(4001) }],
    ['null', null],
  ])('treats %s as an invalid response', async (_name, body) => {
    lambda.on(InvokeCommand).resolves({ Payload: payload(body) });
    expect((await failure(reviewer().review(request))).reason).toBe('invalid_response');
  });

  it('treats a function error and a refused Invoke as failed reviews', async () => {
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ FunctionError: 'Unhandled', Payload: payload({ errorType: 'Error', errorMessage: 'boom' }) })
      .rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const hook = reviewer();
    expect((await failure(hook.review(request))).reason).toBe('function_error');
    const refused = await failure(hook.review(request));
    expect(refused.reason).toBe('invoke_failed');
    expect(refused.message).toContain('AccessDeniedException');
  });
});
