/**
 * Counts AWS requests by service and operation, so benchmarks can report requests per delivered
 * message. The middleware is cheap (a map increment) and always on; nothing reads it in production.
 */
type Counts = Record<string, number>;

const counts: Counts = {};

interface MiddlewareStackLike {
  add: (
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: Record<string, unknown>,
    ) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize'; name: string },
  ) => void;
}

interface ClientLike {
  middlewareStack: unknown;
}

/** Counts one request, keyed `Service.Operation` (for clients that are not SDK clients). */
export function countRequest(key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export function attachRequestCounter(client: ClientLike): void {
  (client.middlewareStack as MiddlewareStackLike).add(
    (next, context) => async (args) => {
      countRequest(
        `${String(context.clientName ?? 'client').replace(/Client$/, '')}.${String(context.commandName ?? 'command').replace(/Command$/, '')}`,
      );
      return next(args);
    },
    { step: 'initialize', name: 'switchboardRequestCounter' },
  );
}

/** A copy of the counts since the last reset. */
export function requestCounts(): Counts {
  return { ...counts };
}

export function resetRequestCounts(): void {
  for (const key of Object.keys(counts)) delete counts[key];
}
