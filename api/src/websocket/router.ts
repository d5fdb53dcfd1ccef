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
  /**
   * Resolves once the connection's rate budget admits this frame; throws RateLimitedError when it is
   * spent. A route that `readsBeforeAdmission` awaits it before its first write or side effect.
   */
  admitted: () => Promise<void>;
}

export interface ActionRoute<S extends z.ZodType> {
  schema: S;
  /** Resolves to no frame when the action answers nothing (a dropped typing frame). */
  handle: (input: z.infer<S>, context: ActionContext) => Promise<Frame | undefined>;
  /** A frame over the rate budget is dropped without an error frame (typing: a hint, sent while typing). */
  quietWhenLimited?: boolean;
  /**
   * The route starts its reads while the budget's UpdateItem is in flight and awaits
   * `context.admitted()` before it writes (sendMessage: one DynamoDB round trip fewer per message).
   * Other routes are admitted before they start.
   */
  readsBeforeAdmission?: boolean;
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
   * It awaits `admitted` before it writes (a guest's claim).
   */
  resolveIdentity?: (request: {
    connectionId: string;
    identity: Identity;
    authorizer: Record<string, unknown>;
    frame: Record<string, unknown>;
    admitted: () => Promise<void>;
  }) => Promise<Identity>;
}

const LIMITED = 'too many frames; slow down and retry';

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
    const connectionId = event.requestContext.connectionId;
    const budget = options.allowFrame ? options.allowFrame(connectionId) : Promise.resolve(true);
    const admission = budget.then((allowed) => {
      if (!allowed) throw new RateLimitedError(LIMITED);
    });
    // Awaited on every path below; this only keeps a refusal from being reported as unhandled meanwhile.
    admission.catch(() => undefined);
    const admitted = () => admission;
    try {
      if (!definition.readsBeforeAdmission) await admitted();
      const identity = options.resolveIdentity
        ? await options.resolveIdentity({
            connectionId,
            identity: authorized,
            authorizer: event.requestContext.authorizer ?? {},
            frame,
            admitted,
          })
        : authorized;
      const answer = await definition.handle(input, {
        connectionId,
        identity,
        connectedAt: event.requestContext.connectedAt,
        admitted,
      });
      await admitted();
      return reply(answer);
    } catch (error) {
      // Over the budget is the answer, whatever else a route's early reads ran into meanwhile.
      if (!(await budget.catch(() => true))) {
        if (definition.quietWhenLimited) return reply(undefined);
        throw new RateLimitedError(LIMITED);
      }
      throw error;
    }
  } catch (error) {
    return errorReply(error, messageId);
  }
}
