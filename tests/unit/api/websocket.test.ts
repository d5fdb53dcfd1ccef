import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { roomsFromQuery } from '#api/websocket/connect-query';
import type { WebSocketEvent } from '#api/websocket/event';
import { MAX_JSON_DEPTH, parseFrame } from '#api/websocket/frame-parser';
import { type ActionTable, dispatch, route } from '#api/websocket/router';
import { ValidationError } from '#core/domain/errors';

const event = (
  body: string,
  authorizer: Record<string, string> | null = { userId: 'alice', userName: 'Alice' },
): WebSocketEvent => ({
  body,
  isBase64Encoded: false,
  requestContext: {
    routeKey: '$default',
    messageId: 'msg-1',
    eventType: 'MESSAGE',
    extendedRequestId: 'req-1',
    requestTime: new Date().toUTCString(),
    messageDirection: 'IN',
    connectionId: 'conn-1',
    connectedAt: Date.now(),
    requestTimeEpoch: Date.now(),
    requestId: 'req-1',
    domainName: 'localhost',
    stage: 'prod',
    apiId: 'api',
    identity: { sourceIp: '203.0.113.10', userAgent: 'test' },
    ...(authorizer ? { authorizer: { ...authorizer, principalId: 'alice', integrationLatency: 12 } } : {}),
  },
});

const echoActions: ActionTable = {
  echo: route({
    schema: z.object({ action: z.literal('echo'), text: z.string().max(5) }),
    handle: async (input, context) => ({ type: 'echo', text: input.text, by: context.identity.userId }),
  }),
  boom: route({
    schema: z.object({ action: z.literal('boom') }),
    handle: async () => {
      throw new Error('secret internals');
    },
  }),
};

const bodyOf = async (result: Promise<{ body?: string }>) => JSON.parse(String((await result).body));

/** A plain route (admitted before it starts) that records whether it ran. */
function goRoute() {
  let ran = false;
  const actions: ActionTable = {
    go: route({
      schema: z.object({ action: z.literal('go') }),
      handle: async () => {
        ran = true;
        return { type: 'gone' };
      },
    }),
  };
  return { actions, ran: () => ran };
}

describe('the WebSocket router', () => {
  it('dispatches by action with the identity the authorizer fixed', async () => {
    expect(await bodyOf(dispatch(event('{"action":"echo","text":"hi","user_id":"mallory"}'), echoActions))).toEqual({
      type: 'echo',
      text: 'hi',
      by: 'alice',
    });
  });

  it('maps bad frames to typed error frames', async () => {
    expect((await bodyOf(dispatch(event('nope'), echoActions))).code).toBe('invalid_json');
    expect((await bodyOf(dispatch(event('{"action":"fly"}'), echoActions))).code).toBe('unknown_action');
    expect((await bodyOf(dispatch(event('{"action":"__proto__"}'), echoActions))).code).toBe('unknown_action');
    const invalid = await bodyOf(dispatch(event('{"action":"echo","text":"too long"}'), echoActions));
    expect(invalid).toMatchObject({ code: 'validation_failed', issues: [{ path: 'text' }] });
  });

  it('hides internal errors behind internal_error', async () => {
    const reply = await bodyOf(dispatch(event('{"action":"boom"}'), echoActions));
    expect(reply.code).toBe('internal_error');
    expect(JSON.stringify(reply)).not.toContain('secret');
  });

  it('refuses a connection without identity', async () => {
    expect((await bodyOf(dispatch(event('{"action":"echo","text":"x"}', null), echoActions))).code).toBe(
      'unauthorized',
    );
  });

  it('answers rate_limited when the budget is spent, before running the action', async () => {
    const go = goRoute();
    const reply = await bodyOf(dispatch(event('{"action":"go"}'), go.actions, { allowFrame: async () => false }));
    expect(reply.code).toBe('rate_limited');
    expect(go.ran()).toBe(false);
  });
});

describe('reads beside the rate budget (readsBeforeAdmission)', () => {
  /** A budget whose answer the test gives, and a route that reads, awaits admission, then writes. */
  /** A rate budget whose answer the test gives when it chooses. */
  function pendingBudget() {
    let answer: (allowed: boolean) => void = () => {};
    const budget = new Promise<boolean>((resolve) => {
      answer = resolve;
    });
    return { budget, answer };
  }

  function harness(read: () => Promise<void> = async () => {}) {
    const { budget, answer } = pendingBudget();
    const steps: string[] = [];
    const actions: ActionTable = {
      send: route({
        schema: z.object({ action: z.literal('send') }),
        readsBeforeAdmission: true,
        handle: async (_input, { admitted }) => {
          steps.push('read');
          await Promise.all([read(), admitted()]);
          steps.push('write');
          return { type: 'sent' };
        },
      }),
    };
    const reply = bodyOf(dispatch(event('{"action":"send"}'), actions, { allowFrame: () => budget }));
    return { answer, steps, reply };
  }

  it('starts the route before the budget answers, and writes only once it allows', async () => {
    const run = harness();
    await new Promise((resolve) => setImmediate(resolve));
    expect(run.steps).toEqual(['read']);
    run.answer(true);
    expect(await run.reply).toEqual({ type: 'sent' });
    expect(run.steps).toEqual(['read', 'write']);
  });

  it('answers rate_limited and never writes when the budget is spent', async () => {
    const run = harness();
    run.answer(false);
    expect((await run.reply).code).toBe('rate_limited');
    expect(run.steps).toEqual(['read']);
  });

  it('answers rate_limited even when a read it started meanwhile failed', async () => {
    const run = harness(async () => {
      throw new ValidationError('no such room', []);
    });
    setTimeout(() => run.answer(false), 5);
    expect((await run.reply).code).toBe('rate_limited');
    expect(run.steps).toEqual(['read']);
  });

  it('leaves other routes waiting for the budget before they start', async () => {
    const { budget, answer } = pendingBudget();
    const go = goRoute();
    const reply = bodyOf(dispatch(event('{"action":"go"}'), go.actions, { allowFrame: () => budget }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(go.ran()).toBe(false);
    answer(true);
    expect(await reply).toEqual({ type: 'gone' });
  });
});

describe('frame parsing limits', () => {
  it('refuses JSON nested deeper than the limit', () => {
    const deep = `${'{"a":'.repeat(MAX_JSON_DEPTH + 2)}1${'}'.repeat(MAX_JSON_DEPTH + 2)}`;
    expect(() => parseFrame(deep)).toThrow(ValidationError);
    expect(parseFrame('{"a":{"b":1}}')).toEqual({ a: { b: 1 } });
  });
});

describe('rooms from the connect URL', () => {
  it('defaults to general, accepts a list, and refuses bad names', () => {
    expect(roomsFromQuery(undefined)).toEqual(['general']);
    expect(roomsFromQuery({ room: 'a,b,a' })).toEqual(['a', 'b']);
    expect(() => roomsFromQuery({ room: 'bad room' })).toThrow(ValidationError);
  });
});
