import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** One logger and tracer per container; service name and level come from POWERTOOLS_* settings. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'switchboard' });
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'switchboard' });

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
