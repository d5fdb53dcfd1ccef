/**
 * A local EventBridge that the unmodified AWS SDK talks to (AWS JSON 1.1 over `POST /`, operation in
 * `x-amz-target`). PutEvents validates and answers like AWS, then routes each accepted event, after the
 * response, to the targets of every enabled rule on its bus whose pattern matches, with retries and a
 * dead-letter hook. Read-only operations (ListRules, DescribeRule, ListTargetsByRule, ListEventBuses,
 * DescribeEventBus) and TestEventPattern answer from the rules given at start.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { AwsServiceError, DEFAULT_ACCOUNT, DEFAULT_REGION, jsonProtocolHandler } from '../aws-protocol.js';
import { ERROR_SHAPES } from '../iam/authorizer.js';
import { listen } from '../listen.js';
import { compileInputPath } from './input-path.js';
import { type CompiledEventPattern, compileEventPattern, InvalidEventPatternError } from './pattern.js';
import type {
  EventBridgeEvent,
  LocalEventBridge,
  LocalEventBridgeOptions,
  LocalEventBridgeStats,
  LocalRule,
  LocalTarget,
} from './types.js';

export type * from './types.js';

const MAX_ENTRIES = 10;
/** PutEvents entries may total 1 MB per request (raised from 256 KB in January 2026). */
const MAX_ENTRIES_BYTES = 1024 * 1024;
/** Hard stop while reading a body: the JSON envelope around 1 MB of entries is far smaller than this. */
const MAX_BODY_BYTES = 4 * MAX_ENTRIES_BYTES;
/** Every entry's Time counts as 14 bytes whatever its form (AWS's entry-size rule). */
const TIME_BYTES = 14;
const AWS_DEFAULT_RETRY_ATTEMPTS = 185;
const AWS_DEFAULT_MAX_EVENT_AGE_SECONDS = 86_400;

interface PreparedTarget {
  target: LocalTarget;
  toInput: (event: EventBridgeEvent) => unknown;
}

interface PreparedRule {
  rule: LocalRule;
  bus: string;
  enabled: boolean;
  pattern: CompiledEventPattern;
  targets: PreparedTarget[];
}

interface DeliveryJob {
  rule: LocalRule;
  target: PreparedTarget;
  event: EventBridgeEvent;
  receivedAt: number;
}

type EntryFailure = { ErrorCode: string; ErrorMessage: string };
type EntryResult = { EventId: string } | EntryFailure;

/**
 * Starts a local EventBridge on `options.host:options.port` (port 0 picks a free one). Throws before
 * listening when a rule's pattern, bus or target is invalid.
 */
export async function startLocalEventBridge(options: LocalEventBridgeOptions): Promise<LocalEventBridge> {
  const region = options.region ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const host = options.host ?? '127.0.0.1';
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 50;
  const retryMaxDelayMs = options.retryMaxDelayMs ?? 2000;
  const retryCap = options.maxRetryAttempts ?? 5;
  const log = options.logger ?? defaultLogger;
  const buses = new Set(['default', ...options.buses.map(busNameOf)]);
  const rules = prepareRules(options.rules, buses);
  const busArn = (bus: string): string => `arn:aws:events:${region}:${accountId}:event-bus/${bus}`;
  const ruleArn = (bus: string, name: string): string =>
    `arn:aws:events:${region}:${accountId}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;

  const counters: LocalEventBridgeStats = {
    putEvents: 0,
    entries: 0,
    matched: 0,
    delivered: 0,
    retried: 0,
    deadLettered: 0,
    dropped: 0,
    unknownBus: 0,
  };
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  let closed = false;
  const sleeping = new Map<NodeJS.Timeout, () => void>();

  const settle = (): void => {
    inFlight--;
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  /** Resolves true after `ms`, or false at once if the bridge closes first. */
  const sleep = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        sleeping.delete(timer);
        resolve(true);
      }, ms);
      sleeping.set(timer, () => resolve(false));
    });

  const giveUp = (job: DeliveryJob, error: Error, attempts: number): void => {
    const { target } = job.target;
    const extra = { rule: job.rule.name, target: target.id, eventId: job.event.id, attempts, error: error.message };
    if (target.deadLetterArn) {
      counters.deadLettered++;
      log('eventbridge: delivery failed, sent to dead-letter queue', { ...extra, deadLetterArn: target.deadLetterArn });
      try {
        options.onDeadLetter?.(target, job.event, error, attempts);
      } catch (hookError) {
        log('eventbridge: onDeadLetter threw', { ...extra, hookError: toError(hookError).message });
      }
    } else {
      counters.dropped++;
      log('eventbridge: delivery failed, event dropped (no dead-letter queue)', extra);
    }
  };

  const runDelivery = async (job: DeliveryJob): Promise<void> => {
    const { target, toInput } = job.target;
    const maxRetries = Math.min(
      target.retryPolicy?.maximumRetryAttempts ?? AWS_DEFAULT_RETRY_ATTEMPTS,
      Math.max(0, retryCap),
    );
    const maxAgeMs = (target.retryPolicy?.maximumEventAgeInSeconds ?? AWS_DEFAULT_MAX_EVENT_AGE_SECONDS) * 1000;
    const input = toInput(job.event);
    let dueAtMs = job.receivedAt;
    for (let attempt = 1; !closed; attempt++) {
      try {
        await options.deliver(target, input, job.rule, job.event, dueAtMs);
        counters.delivered++;
        return;
      } catch (thrown) {
        const error = toError(thrown);
        const retriesSoFar = attempt - 1;
        const delay = Math.min(retryBaseDelayMs * 2 ** retriesSoFar, retryMaxDelayMs);
        const retryable = (thrown as { retryable?: unknown } | null)?.retryable !== false;
        const tooOld = Date.now() + delay - job.receivedAt > maxAgeMs;
        if (!retryable || retriesSoFar >= maxRetries || tooOld) {
          giveUp(job, error, attempt);
          return;
        }
        counters.retried++;
        log('eventbridge: delivery failed, retrying', {
          rule: job.rule.name,
          target: target.id,
          eventId: job.event.id,
          attempt,
          delayMs: delay,
          error: error.message,
        });
        if (!(await sleep(delay))) return;
        dueAtMs = Date.now();
      }
    }
  };

  const schedule = (jobs: DeliveryJob[]): void => {
    // Counted before the response goes out so that idle() called right after PutEvents waits for them.
    inFlight += jobs.length;
    setImmediate(() => {
      for (const job of jobs) {
        runDelivery(job)
          .catch((error: unknown) => log('eventbridge: delivery crashed', { error: toError(error).message }))
          .finally(settle);
      }
    });
  };

  const putEvents = (body: Record<string, unknown>): { result: object; jobs: DeliveryJob[] } => {
    const entries = body.Entries;
    if (!Array.isArray(entries))
      throw validation("Value null at 'entries' failed to satisfy constraint: Member must not be null");
    if (entries.length < 1) {
      throw validation(
        "Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (entries.length > MAX_ENTRIES) {
      throw validation(
        `Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
      );
    }
    const totalBytes = entries.reduce<number>((sum, entry) => sum + entrySize(entry), 0);
    if (totalBytes > MAX_ENTRIES_BYTES) {
      throw new AwsServiceError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    const receivedAt = Date.now();
    const results: EntryResult[] = [];
    const jobs: DeliveryJob[] = [];
    let failed = 0;
    for (const entry of entries) {
      const checked = checkEntry(entry, receivedAt);
      if ('ErrorCode' in checked) {
        failed++;
        results.push(checked);
        continue;
      }
      const bus = checked.bus;
      if (!buses.has(bus)) {
        if (options.rejectUnknownBus) {
          failed++;
          results.push({ ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` });
          continue;
        }
        counters.unknownBus++;
        log('eventbridge: event accepted for a bus that does not exist; AWS drops it silently', { bus });
      }
      const event: EventBridgeEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': checked.detailType,
        source: checked.source,
        account: accountId,
        time: checked.time,
        region,
        resources: checked.resources,
        detail: checked.detail,
      };
      counters.entries++;
      results.push({ EventId: event.id });
      for (const prepared of rules) {
        if (prepared.bus !== bus || !prepared.enabled || !prepared.pattern.matches(event)) continue;
        counters.matched++;
        for (const target of prepared.targets) jobs.push({ rule: prepared.rule, target, event, receivedAt });
      }
    }
    return { result: { FailedEntryCount: failed, Entries: results }, jobs };
  };

  const describeRule = (prepared: PreparedRule): Record<string, unknown> => ({
    Name: prepared.rule.name,
    Arn: ruleArn(prepared.bus, prepared.rule.name),
    EventPattern: JSON.stringify(prepared.rule.eventPattern),
    State: prepared.enabled ? 'ENABLED' : 'DISABLED',
    EventBusName: prepared.bus,
  });

  const findRule = (body: Record<string, unknown>): PreparedRule => {
    const name = requireStringParam(body, 'Name');
    const bus = busNameOf(optionalStringParam(body, 'EventBusName') ?? 'default');
    const found = rules.find((r) => r.rule.name === name && r.bus === bus);
    if (!found)
      throw new AwsServiceError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`);
    return found;
  };

  const operations: Record<string, (body: Record<string, unknown>) => object> = {
    ListRules: (body) => {
      const bus = busNameOf(optionalStringParam(body, 'EventBusName') ?? 'default');
      const prefix = optionalStringParam(body, 'NamePrefix') ?? '';
      return { Rules: rules.filter((r) => r.bus === bus && r.rule.name.startsWith(prefix)).map(describeRule) };
    },
    DescribeRule: (body) => describeRule(findRule(body)),
    ListTargetsByRule: (body) => {
      const targets = findRule({ Name: body.Rule, EventBusName: body.EventBusName }).targets;
      return {
        Targets: targets.map(({ target }) => ({
          Id: target.id,
          Arn: target.arn,
          ...(target.input === undefined ? {} : { Input: target.input }),
          ...(target.inputPath === undefined ? {} : { InputPath: target.inputPath }),
          ...(target.retryPolicy
            ? {
                RetryPolicy: {
                  MaximumRetryAttempts: target.retryPolicy.maximumRetryAttempts,
                  MaximumEventAgeInSeconds: target.retryPolicy.maximumEventAgeInSeconds,
                },
              }
            : {}),
          ...(target.deadLetterArn ? { DeadLetterConfig: { Arn: target.deadLetterArn } } : {}),
        })),
      };
    },
    ListEventBuses: (body) => {
      const prefix = optionalStringParam(body, 'NamePrefix') ?? '';
      return {
        EventBuses: [...buses].filter((b) => b.startsWith(prefix)).map((b) => ({ Name: b, Arn: busArn(b) })),
      };
    },
    DescribeEventBus: (body) => {
      const bus = busNameOf(optionalStringParam(body, 'Name') ?? 'default');
      if (!buses.has(bus)) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
      return { Name: bus, Arn: busArn(bus) };
    },
    TestEventPattern: (body) => {
      const pattern = requireStringParam(body, 'EventPattern');
      const event = requireStringParam(body, 'Event');
      try {
        return { Result: compileEventPattern(pattern).matches(event) };
      } catch (error) {
        throw new AwsServiceError('InvalidEventPatternException', toError(error).message);
      }
    },
  };

  /** PutEvents needs events:PutEvents on every bus its entries name; the other calls, on the bus they name. */
  const busesOf = (operation: string, body: Record<string, unknown>): string[] => {
    if (operation === 'PutEvents' && Array.isArray(body.Entries)) {
      const named = body.Entries.map((entry) => {
        const bus = (entry as { EventBusName?: unknown } | null)?.EventBusName;
        return busNameOf(typeof bus === 'string' && bus !== '' ? bus : 'default');
      });
      return [...new Set(named)];
    }
    return [busNameOf(optionalStringParam(body, 'EventBusName') ?? optionalStringParam(body, 'Name') ?? 'default')];
  };

  const handler = jsonProtocolHandler({
    targetPrefix: 'AWSEvents',
    protocol: 'json1.1',
    maxBodyBytes: MAX_BODY_BYTES,
    authorize: (operation, body, req) => {
      const iam = options.iam;
      if (!iam) return;
      const principal = iam.principalOf(req.headers, ERROR_SHAPES.events);
      iam.count(principal, `events:${operation}`);
      const required = busesOf(operation, body).map((bus) => ({
        action: `events:${operation}`,
        resource: busArn(bus),
      }));
      iam.authorize(principal, required, ERROR_SHAPES.events);
    },
    onInternalError: (error) => log('eventbridge: internal error', { error: toError(error).message }),
    operations: {
      ...operations,
      PutEvents: (body) => {
        const { result, jobs } = putEvents(body);
        counters.putEvents++;
        if (jobs.length) schedule(jobs);
        return result;
      },
    },
  });

  const server = createServer((req, res) => {
    void handler(req, res);
  });

  const { port } = await listen(server, options.port, host);

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats: () => ({ ...counters }),
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    close: async () => {
      closed = true;
      for (const [timer, cancel] of sleeping) {
        clearTimeout(timer);
        cancel();
      }
      sleeping.clear();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      });
    },
  };
}

function defaultLogger(msg: string, extra?: object): void {
  console.warn(extra ? `${msg} ${JSON.stringify(extra)}` : msg);
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function validation(constraint: string): AwsServiceError {
  return new AwsServiceError('ValidationException', `1 validation error detected: ${constraint}`);
}

/** Accepts a bus name or a bus ARN (`arn:aws:events:region:account:event-bus/name`). */
function busNameOf(nameOrArn: string): string {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn;
  const marker = ':event-bus/';
  const at = nameOrArn.indexOf(marker);
  return at < 0 ? nameOrArn : nameOrArn.slice(at + marker.length);
}

function prepareRules(rules: LocalRule[], buses: Set<string>): PreparedRule[] {
  const seen = new Set<string>();
  return rules.map((rule) => {
    const bus = busNameOf(rule.eventBusName);
    if (!buses.has(bus)) throw new Error(`Rule ${rule.name} is on event bus ${bus}, which is not among the buses`);
    const key = `${bus}/${rule.name}`;
    if (seen.has(key)) throw new Error(`Rule ${rule.name} is defined twice on event bus ${bus}`);
    seen.add(key);
    let pattern: CompiledEventPattern;
    try {
      pattern = compileEventPattern(rule.eventPattern);
    } catch (error) {
      if (error instanceof InvalidEventPatternError) {
        throw new InvalidEventPatternError(`rule ${rule.name}: ${error.message}`);
      }
      throw error;
    }
    return {
      rule,
      bus,
      enabled: (rule.state ?? 'ENABLED') === 'ENABLED',
      pattern,
      targets: rule.targets.map((target) => prepareTarget(rule, target)),
    };
  });
}

function prepareTarget(rule: LocalRule, target: LocalTarget): PreparedTarget {
  const where = `rule ${rule.name}, target ${target.id}`;
  if (target.input !== undefined && target.inputPath !== undefined) {
    throw new Error(`${where}: Input and InputPath are mutually exclusive`);
  }
  if (target.input !== undefined) {
    let constant: unknown;
    try {
      constant = JSON.parse(target.input);
    } catch {
      throw new Error(`${where}: Input must be valid JSON text`);
    }
    return { target, toInput: () => structuredClone(constant) };
  }
  if (target.inputPath !== undefined) {
    let select: (value: unknown) => unknown;
    try {
      select = compileInputPath(target.inputPath);
    } catch (error) {
      throw new Error(`${where}: ${toError(error).message}`);
    }
    return { target, toInput: (event) => structuredClone(select(event) ?? null) };
  }
  return { target, toInput: (event) => structuredClone(event) };
}

function utf8Length(value: unknown): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0;
}

/** AWS's PutEventsRequestEntry size: Time 14 bytes; Source, DetailType, Detail and each Resource in UTF-8 bytes. */
function entrySize(entry: unknown): number {
  if (typeof entry !== 'object' || entry === null) return 0;
  const e = entry as Record<string, unknown>;
  let size = e.Time === undefined || e.Time === null ? 0 : TIME_BYTES;
  size += utf8Length(e.Source) + utf8Length(e.DetailType) + utf8Length(e.Detail);
  if (Array.isArray(e.Resources)) for (const r of e.Resources) size += utf8Length(r);
  return size;
}

interface CheckedEntry {
  bus: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources: string[];
  time: string;
}

function invalidArgument(parameter: string, reason: string): EntryFailure {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}` };
}

function checkEntry(entry: unknown, receivedAt: number): CheckedEntry | EntryFailure {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  for (const parameter of ['Source', 'DetailType', 'Detail'] as const) {
    const value = e[parameter];
    if (typeof value !== 'string' || value === '') {
      return invalidArgument(parameter, `${parameter} is a required argument.`);
    }
  }
  const source = e.Source as string;
  if (source.startsWith('aws.')) {
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(e.Detail as string);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  const resources = e.Resources ?? [];
  if (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string')) {
    return invalidArgument('Resources', 'Resources must be a list of strings.');
  }
  const time = eventTime(e.Time, receivedAt);
  if (time === undefined) {
    return invalidArgument('Time', 'Time is not a valid timestamp.');
  }
  const busParam = e.EventBusName;
  return {
    bus: busNameOf(typeof busParam === 'string' && busParam !== '' ? busParam : 'default'),
    source,
    detailType: e.DetailType as string,
    detail: detail as Record<string, unknown>,
    resources: resources as string[],
    time,
  };
}

/** The SDK sends Time as epoch seconds (JSON 1.1 timestamps); ISO text is accepted too. */
function eventTime(value: unknown, receivedAt: number): string | undefined {
  let ms: number;
  if (value === undefined || value === null) ms = receivedAt;
  else if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string') ms = Date.parse(value);
  else return undefined;
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function requireStringParam(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') {
    throw validation(
      `Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalStringParam(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
