import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import type { LocalCfnStack } from './cfn/stack.js';
import { operatorCredentials } from './dynamodb.js';
import { LOCAL_REGION, type LocalStack } from './stack.js';
import type { LocalFunction, LocalStackModel, LocalStateMachine } from './stack-model.js';

/** events/, where the sample events and their manifest live. */
export const sampleEventsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'events');

/**
 * events/manifest.json: template logical id → the sample event files (in events/) it runs with.
 * The one list of which event belongs to which function; events/README.md documents it.
 */
export type SampleEventManifest = Record<string, string[]>;

const manifestSchema = z.record(
  z.string().regex(/^[A-Za-z0-9]+$/, 'keys are template logical ids'),
  z.array(z.string().regex(/^[a-z0-9-]+\.json$/, 'files are kebab-case .json names in events/')).min(1),
);

/** Thrown when events/manifest.json does not have the manifest's shape. */
export class InvalidManifestError extends Error {
  override name = 'InvalidManifestError';
}

/** Parses the manifest's text, naming what is wrong with it. */
export function parseSampleEventManifest(text: string): SampleEventManifest {
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidManifestError(`events/manifest.json: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

export async function loadSampleEventManifest(dir: string = sampleEventsDir): Promise<SampleEventManifest> {
  return parseSampleEventManifest(await readFile(resolve(dir, 'manifest.json'), 'utf8'));
}

/** Reads one sample event; `file` is a manifest entry (resolved in `dir`) or any path. */
export async function readSampleEvent(file: string, dir: string = sampleEventsDir): Promise<unknown> {
  return JSON.parse(await readFile(resolve(dir, file), 'utf8'));
}

/** The template resources that must each have a sample event: every function and state machine. */
export interface InvokableResource {
  logicalId: string;
}

/** Logical ids of the resources that have no sample event in the manifest, in template order. */
export function missingSampleEvents(resources: InvokableResource[], manifest: SampleEventManifest): string[] {
  return resources
    .map((resource) => resource.logicalId)
    .filter((logicalId) => !Object.hasOwn(manifest, logicalId) || (manifest[logicalId] ?? []).length === 0);
}

/** Manifest keys that name no resource in the templates (renamed or deleted functions). */
export function unknownManifestEntries(resources: InvokableResource[], manifest: SampleEventManifest): string[] {
  const known = new Set(resources.map((resource) => resource.logicalId));
  return Object.keys(manifest).filter((logicalId) => !known.has(logicalId));
}

/** Something `npm run invoke` can run: a function, or a state machine started synchronously. */
export type InvokeTarget =
  | { kind: 'function'; logicalId: string; path: string; fn: LocalFunction }
  | { kind: 'stateMachine'; logicalId: string; path: string; machine: LocalStateMachine };

/** Thrown when an id names no function or state machine; the message lists the ones that exist. */
export class UnknownInvokeTargetError extends Error {
  override name = 'UnknownInvokeTargetError';
}

const invokableTypes = new Set(['AWS::Serverless::Function', 'AWS::Serverless::StateMachine']);

/**
 * Every function and state machine in the stack tree, with its SAM CLI path (`Api/ConnectFunction`:
 * nested application logical ids, then the resource's), in template order.
 */
export function invokeTargets(model: LocalStackModel): InvokeTarget[] {
  const targets: InvokeTarget[] = [];
  const visit = (stack: LocalCfnStack, prefix: string) => {
    for (const [logicalId, resource] of stack.resources()) {
      if (!invokableTypes.has(resource.Type)) continue;
      const path = `${prefix}${logicalId}`;
      const name = stack.physicalName(logicalId);
      const arn = stack.arnOf(logicalId);
      const fn = model.functions.find((candidate) => candidate.arn === arn && candidate.name === name);
      if (fn) targets.push({ kind: 'function', logicalId, path, fn });
      const machine = model.stateMachines.find((candidate) => candidate.arn === arn);
      if (machine) targets.push({ kind: 'stateMachine', logicalId, path, machine });
    }
    for (const [childId, child] of stack.children) visit(child, `${prefix}${childId}/`);
  };
  visit(model.root, '');
  return targets;
}

/**
 * Finds what an id names, accepting what SAM CLI and the AWS CLI accept: the logical id
 * (`ConnectFunction`), the nested path (`Api/ConnectFunction`), the function or state machine
 * name, or its ARN.
 */
export function resolveInvokeTarget(model: LocalStackModel, id: string): InvokeTarget {
  const targets = invokeTargets(model);
  const nameOf = (target: InvokeTarget) => (target.kind === 'function' ? target.fn.name : target.machine.name);
  const arnOf = (target: InvokeTarget) => (target.kind === 'function' ? target.fn.arn : target.machine.arn);
  const byPath = targets.find((target) => target.path === id);
  if (byPath) return byPath;
  // A path whose stack part is wrong must not silently pick a same-named resource elsewhere.
  const matches =
    id.includes('/') && !id.startsWith('arn:')
      ? []
      : targets.filter((target) => target.logicalId === id || nameOf(target) === id || arnOf(target) === id);
  if (matches.length === 1 && matches[0]) return matches[0];
  const known = targets.map((target) => target.path).join(', ');
  if (matches.length > 1) {
    throw new UnknownInvokeTargetError(
      `${id} is ambiguous: use one of ${matches.map((target) => target.path).join(', ')}`,
    );
  }
  throw new UnknownInvokeTargetError(`No function or state machine ${id} in the templates. Known: ${known}`);
}

/** A state machine execution that ended in anything but SUCCEEDED; `name` is the execution's error. */
export class ExecutionFailedError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/**
 * Runs a target on a running local stack: a function in-process, as Lambda would, or a state
 * machine through StartSyncExecution, returning the handler's result or the execution's output.
 */
export async function invokeTarget(stack: LocalStack, target: InvokeTarget, event: unknown): Promise<unknown> {
  if (target.kind === 'function') return stack.functions.invoke(target.fn.name, event);
  // AWS serves StartSyncExecution on a `sync-` host prefix; the stand-in has a single host.
  const sfn = new SFNClient({
    endpoint: stack.urls.stepFunctions,
    region: LOCAL_REGION,
    credentials: operatorCredentials,
    disableHostPrefix: true,
  });
  try {
    const result = await sfn.send(
      new StartSyncExecutionCommand({ stateMachineArn: target.machine.arn, input: JSON.stringify(event) }),
    );
    if (result.status !== 'SUCCEEDED') {
      throw new ExecutionFailedError(
        result.error ?? `States.${result.status}`,
        result.cause ?? 'execution did not succeed',
      );
    }
    return result.output === undefined ? null : JSON.parse(result.output);
  } finally {
    sfn.destroy();
  }
}

/** Thrown when the `$connect` that must precede a WebSocket message event refuses the connection. */
export class ConnectRefusedError extends Error {
  override name = 'ConnectRefusedError';
}

interface WebSocketRequestContextLike {
  eventType: 'MESSAGE' | 'DISCONNECT';
  connectionId: string;
  domainName?: string;
  [key: string]: unknown;
}

/** A WebSocket message or `$disconnect` event: API Gateway sends those only for a connection that completed `$connect`. */
export function isEventOfOpenConnection(event: unknown): event is { requestContext: WebSocketRequestContextLike } {
  const context = (event as { requestContext?: Partial<WebSocketRequestContextLike> } | null)?.requestContext;
  return (
    typeof context?.connectionId === 'string' && (context.eventType === 'MESSAGE' || context.eventType === 'DISCONNECT')
  );
}

/** `10/Oct/2024:22:56:18 +0000`, the format of `requestContext.requestTime`. */
function requestTime(ms: number): string {
  const [, day, month, year, time] = /^\w+, (\d+) (\w+) (\d+) ([\d:]+)/.exec(new Date(ms).toUTCString()) ?? [];
  return `${day}/${month}/${year}:${time} +0000`;
}

/**
 * Keeps API Gateway's promise for a sample message event: runs the `$connect` route first with the
 * same connection id, identity and authorizer context, so the handlers find the connection they
 * would always find on AWS (its item, its rate budget, its rooms). The connection opens now: one
 * opened at a captured event's `connectedAt` would be past API Gateway's 2-hour limit, and its
 * record past its TTL, which DynamoDB Local enforces within seconds. Returns the id it opened, or
 * undefined when the event is not one of an open connection.
 */
export async function openConnectionFor(stack: LocalStack, event: unknown): Promise<string | undefined> {
  if (!isEventOfOpenConnection(event)) return undefined;
  const route = stack.model.webSocket.routes.$connect;
  if (!route) return undefined;
  const { messageId: _m, disconnectStatusCode: _c, disconnectReason: _r, ...context } = event.requestContext;
  const host = event.requestContext.domainName ?? 'localhost';
  const now = Date.now();
  const connectEvent = {
    headers: { Host: host },
    multiValueHeaders: { Host: [host] },
    requestContext: {
      ...context,
      routeKey: '$connect',
      eventType: 'CONNECT',
      connectedAt: now,
      requestTimeEpoch: now,
      requestTime: requestTime(now),
    },
    isBase64Encoded: false,
  };
  const result = (await stack.functions.invoke(route.functionName, connectEvent)) as
    | { statusCode?: number }
    | undefined;
  if (result?.statusCode !== 200) {
    throw new ConnectRefusedError(`$connect for ${context.connectionId} answered ${JSON.stringify(result)}`);
  }
  await stack.idle();
  return context.connectionId;
}
