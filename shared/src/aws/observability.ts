import { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'switchboard';

/** The part of the Powertools Tracer the handlers use. */
export type HandlerTracer = Pick<
  Tracer,
  'captureAWSv3Client' | 'isTracingEnabled' | 'getSegment' | 'setSegment' | 'annotateColdStart'
>;

/** What the handlers get when tracing is off: every call does nothing, clients pass through unchanged. */
export const untracedTracer: HandlerTracer = {
  captureAWSv3Client: (client) => client,
  isTracingEnabled: () => false,
  getSegment: () => undefined,
  setSegment: () => {},
  annotateColdStart: () => {},
};

/**
 * The Tracer is loaded only when tracing is on (POWERTOOLS_TRACE_ENABLED, set from the templates'
 * Tracing parameter): loading it loads the X-Ray SDK, whose cls-hooked namespace puts async hooks on
 * every promise in the process, traced or not (about a tenth of a busy fan-out's CPU).
 */
export async function loadTracer(environment: NodeJS.ProcessEnv = process.env): Promise<HandlerTracer> {
  if (environment.POWERTOOLS_TRACE_ENABLED?.toLowerCase() === 'false') return untracedTracer;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  return new Tracer({ serviceName });
}

/** One logger and tracer per container; service name and level come from POWERTOOLS_* settings. */
export const logger = new Logger({ serviceName });
export const tracer: HandlerTracer = await loadTracer();

/**
 * Wraps a handler with the container's logger context and a tracer subsegment (the Tracer is a
 * no-op outside Lambda). Keys appended by the handler are cleared after each invocation.
 */
export function instrumented<E, R>(name: string, fn: (event: E) => Promise<R>) {
  return async (event: E, context?: { functionName?: string; awsRequestId?: string }): Promise<R> => {
    if (context?.awsRequestId) logger.addContext(context as Parameters<typeof logger.addContext>[0]);
    const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    const subsegment = parent?.addNewSubsegment(`## ${name}`);
    if (subsegment) tracer.setSegment(subsegment);
    try {
      tracer.annotateColdStart();
      return await fn(event);
    } catch (error) {
      subsegment?.addError(error as Error);
      throw error;
    } finally {
      subsegment?.close();
      if (parent) tracer.setSegment(parent);
      logger.resetKeys();
    }
  };
}
