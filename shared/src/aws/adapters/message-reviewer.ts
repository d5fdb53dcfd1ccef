import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  DEFAULT_DENY_REASON,
  MAX_REASON_LENGTH,
  type ReviewDecision,
  ReviewFailedError,
  type ReviewRequest,
  reviewResponseSchema,
} from '#core/domain/moderation';
import type { MessageReviewer } from '#core/ports';

export interface MessageReviewerOptions {
  /** The hook's function name or ARN (ModerationFunction). */
  functionName: string;
  /** How long a review may take, Invoke included (ModerationTimeoutMs). */
  timeoutMs: number;
}

/**
 * The moderation hook as a synchronous Lambda Invoke (RequestResponse). Anything short of a valid
 * answer in time (a timeout, Lambda refusing the call, a function error, a payload that is not a
 * review response) is a {@link ReviewFailedError}; the use case's fail mode decides what it means.
 */
export function createMessageReviewer(client: LambdaClient, options: MessageReviewerOptions): MessageReviewer {
  return {
    async review(request: ReviewRequest): Promise<ReviewDecision> {
      const signal = AbortSignal.timeout(options.timeoutMs);
      let answer: InvokeCommandOutput;
      try {
        answer = await client.send(
          new InvokeCommand({
            FunctionName: options.functionName,
            InvocationType: 'RequestResponse',
            Payload: new TextEncoder().encode(JSON.stringify(request)),
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        if (signal.aborted) {
          throw new ReviewFailedError('timeout', `no answer within ${options.timeoutMs} ms`, { cause: error });
        }
        throw new ReviewFailedError('invoke_failed', `Invoke failed: ${(error as Error).name}`, { cause: error });
      }
      const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
      if (answer.FunctionError) {
        throw new ReviewFailedError(
          'function_error',
          `function error (${answer.FunctionError}): ${text.slice(0, 500)}`,
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new ReviewFailedError('invalid_response', 'the answer is not JSON', { cause: error });
      }
      const parsed = reviewResponseSchema.safeParse(body);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
        throw new ReviewFailedError('invalid_response', `not a review response (${issues})`);
      }
      const response = parsed.data;
      if (response.ReviewResult === 'DENY') {
        const reason = response.Attributes?.Reason?.trim() || DEFAULT_DENY_REASON;
        return { result: 'deny', reason: reason.slice(0, MAX_REASON_LENGTH) };
      }
      return { result: 'allow', content: response.Content ?? request.Content };
    },
  };
}
