import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LocalFunction } from './stack-model.js';

/** Thrown like Lambda's own "Task timed out" when a handler outlives its configured timeout. */
export class FunctionTimeoutError extends Error {
  override name = 'Sandbox.Timedout';
}

export class UnknownFunctionError extends Error {
  override name = 'ResourceNotFoundException';
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export interface FunctionRuntime {
  invoke(nameOrArn: string, event: unknown): Promise<unknown>;
  invocations(): Record<string, number>;
  functions: LocalFunction[];
}

/**
 * Runs the templates' functions in this process, importing each TypeScript entry file as-is:
 * the same handler code Lambda runs, with a Lambda-shaped context and the configured timeout.
 */
export function createFunctionRuntime(functions: LocalFunction[], repoRoot: string): FunctionRuntime {
  const byName = new Map(functions.map((fn) => [fn.name, fn]));
  const handlers = new Map<string, Promise<Handler>>();
  const counts: Record<string, number> = {};

  function lookup(nameOrArn: string): LocalFunction {
    const name = /function:([^/:]+)/.exec(nameOrArn)?.[1] ?? nameOrArn;
    const fn = byName.get(name) ?? functions.find((candidate) => candidate.logicalId === name);
    if (!fn) throw new UnknownFunctionError(`Function not found: ${nameOrArn}`);
    return fn;
  }

  function load(fn: LocalFunction): Promise<Handler> {
    let handler = handlers.get(fn.name);
    if (!handler) {
      handler = import(pathToFileURL(resolve(repoRoot, fn.entry)).href).then((module: Record<string, unknown>) => {
        const exported = module[fn.exportName];
        if (typeof exported !== 'function') throw new Error(`${fn.entry} does not export ${fn.exportName}`);
        return exported as Handler;
      });
      handlers.set(fn.name, handler);
    }
    return handler;
  }

  return {
    functions,
    invocations: () => ({ ...counts }),
    async invoke(nameOrArn, event) {
      const fn = lookup(nameOrArn);
      const handler = await load(fn);
      counts[fn.name] = (counts[fn.name] ?? 0) + 1;
      const deadline = Date.now() + fn.timeoutSeconds * 1000;
      const context = {
        functionName: fn.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: fn.arn,
        memoryLimitInMB: '256',
        awsRequestId: randomUUID(),
        logGroupName: `/aws/lambda/${fn.name}`,
        logStreamName: 'local',
        callbackWaitsForEmptyEventLoop: false,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FunctionTimeoutError(`Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`)),
          fn.timeoutSeconds * 1000,
        );
      });
      try {
        return await Promise.race([handler(event, context), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Every function's environment merged into one, as the functions share this process. Two
 * functions giving one variable different values would make one of them wrong, so that fails.
 */
export function mergedEnvironment(functions: LocalFunction[]): Record<string, string> {
  const merged: Record<string, string> = {};
  const owner: Record<string, string> = {};
  for (const fn of functions) {
    for (const [key, value] of Object.entries(fn.environment)) {
      if (key in merged && merged[key] !== value) {
        throw new Error(`${key} is ${merged[key]} in ${owner[key]} but ${value} in ${fn.name}`);
      }
      merged[key] = value;
      owner[key] = fn.name;
    }
  }
  return merged;
}
