import type { z } from 'zod';
import { logger } from '#aws/observability';
import {
  DomainError,
  RateLimitedError,
  UnauthorizedError,
  UnknownActionError,
  ValidationError,
} from '#core/domain/errors';
import { type Identity, identityFromAuthorizer } from '#core/domain/identity';
import { errorFrame, type Frame } from '#protocol/server-frames';
import type { WebSocketEvent, WebSocketResult } from './event.js';
import { parseFrame } from './frame-parser.js';

export interface ActionContext {
  connectionId: string;
  identity: Identity;
  connectedAt: number;
}

export interface ActionRoute<S extends z.ZodType> {
  schema: S;
  /** Resolves to no frame when the action answers nothing (a dropped typing frame). */
  handle: (input: z.infer<S>, context: ActionContext) => Promise<Frame | undefined>;
  /** A frame over the rate budget is dropped without an error frame (typing: a hint, sent while typing). */
  quietWhenLimited?: boolean;
}

/** Keeps each route's input type tied to its schema. */
export const route = <S extends z.ZodType>(definition: ActionRoute<S>): ActionRoute<z.ZodType> =>
  definition as unknown as ActionRoute<z.ZodType>;

export type ActionTable = Record<string, ActionRoute<z.ZodType>>;

const reply = (frame: Frame | undefined): WebSocketResult =>
  frame === undefined ? { statusCode: 200 } : { statusCode: 200, body: JSON.stringify(frame) };

function issuesOf(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(frame)', message: issue.message }));
}

/** Parses with a schema, turning failures into a ValidationError that lists each problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`invalid ${what} frame`, issuesOf(parsed.error));
  return parsed.data;
}

/** Maps any failure to the error frame the sender sees; only domain errors reveal their message. */
export function errorReply(error: unknown, messageId?: string): WebSocketResult {
  if (error instanceof DomainError) {
    const extra = error instanceof ValidationError && error.issues.length > 0 ? { issues: error.issues } : {};
    return reply(errorFrame(error.code, error.message, { ...extra, ...(messageId ? { messageId } : {}) }));
  }
  logger.error('action failed', { error: error as Error });
  return reply(
    errorFrame('internal_error', 'Something went wrong; retry with the same messageId', messageId ? { messageId } : {}),
  );
}

/**
 * Dispatches a WebSocket frame by its action. API Gateway already picked the route from
 * `action`; frames without a matching route arrive on $default, and are dispatched (or refused)
 * here the same way, so every action works whichever route carried it. Valid frames spend the
 * connection's rate budget; an exhausted budget gets `rate_limited` and the connection stays up.
 */
export interface DispatchOptions {
  /** Takes one token from the connection's rate budget; false when it is spent. */
  allowFrame?: (connectionId: string) => Promise<boolean>;
  /**
   * Who sent the frame, when that can differ from the authorizer's identity: a demo-mode guest
   * connection takes its first message's `user_id` (guest-identity.ts). Absent: the authorizer's.
   */
  resolveIdentity?: (request: {
    connectionId: string;
    identity: Identity;
    authorizer: Record<string, unknown>;
    frame: Record<string, unknown>;
  }) => Promise<Identity>;
}

export async function dispatch(
  event: WebSocketEvent,
  actions: ActionTable,
  options: DispatchOptions = {},
): Promise<WebSocketResult> {
  let messageId: string | undefined;
  try {
    const frame = parseFrame(event.body);
    messageId = typeof frame.messageId === 'string' ? frame.messageId.slice(0, 64) : undefined;
    const action = typeof frame.action === 'string' ? frame.action : undefined;
    const definition = action !== undefined && Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!definition) {
      throw new UnknownActionError(
        action === undefined ? 'frame has no action' : `unknown action: ${action.slice(0, 64)}`,
      );
    }
    const input = parseOrThrow(definition.schema, frame, String(action));
    const authorized = identityFromAuthorizer(event.requestContext.authorizer);
    if (!authorized) throw new UnauthorizedError('connection has no identity');
    // Only valid frames spend the budget: invalid ones are refused before touching any table.
    if (options.allowFrame && !(await options.allowFrame(event.requestContext.connectionId))) {
      if (definition.quietWhenLimited) return reply(undefined);
      throw new RateLimitedError('too many frames; slow down and retry');
    }
    const connectionId = event.requestContext.connectionId;
    const identity = options.resolveIdentity
      ? await options.resolveIdentity({
          connectionId,
          identity: authorized,
          authorizer: event.requestContext.authorizer ?? {},
          frame,
        })
      : authorized;
    const context: ActionContext = {
      connectionId,
      identity,
      connectedAt: event.requestContext.connectedAt,
    };
    return reply(await definition.handle(input, context));
  } catch (error) {
    return errorReply(error, messageId);
  }
}
