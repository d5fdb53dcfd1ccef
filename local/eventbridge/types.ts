import type { LocalIam } from '../iam/authorizer.js';

/** The envelope EventBridge builds around every PutEvents entry and hands to targets. */
export interface EventBridgeEvent<TDetail = unknown> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601, second precision (`2017-12-22T18:43:48Z`): the entry's Time, or the time it was received. */
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
}

/** A target's retry policy, as in `AWS::Events::Rule` Targets[].RetryPolicy. */
export interface LocalRetryPolicy {
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
}

/** One rule target. `input` (constant JSON text) and `inputPath` (JSONPath into the event) are exclusive. */
export interface LocalTarget {
  id: string;
  arn: string;
  input?: string;
  inputPath?: string;
  retryPolicy?: LocalRetryPolicy;
  deadLetterArn?: string;
}

/** A rule on a bus: an event pattern plus the targets matching events go to. */
export interface LocalRule {
  name: string;
  /** Bus name or ARN. */
  eventBusName: string;
  eventPattern: object;
  state?: 'ENABLED' | 'DISABLED';
  targets: LocalTarget[];
}

/**
 * Delivers one event to one target. `input` is what the target receives (the event itself, or the result
 * of the target's Input/InputPath); `event` is always the full envelope. A rejection is retried; an error
 * carrying `retryable: false` goes straight to the dead-letter queue (or is dropped), as EventBridge does
 * for non-retryable target errors. `dueAtMs` lets the latency model count the bus's own queueing as
 * part of its delivery hop.
 */
export type DeliverFunction = (
  target: LocalTarget,
  input: unknown,
  rule: LocalRule,
  event: EventBridgeEvent,
  /** When this attempt became due (Date.now()): PutEvents' arrival, or the end of a retry's wait. */
  dueAtMs: number,
) => Promise<void>;

/** Options of {@link startLocalEventBridge}. */
export interface LocalEventBridgeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Default us-east-1. */
  region?: string;
  /** Default 000000000000. */
  accountId?: string;
  /** Bus names; `default` always exists. */
  buses: string[];
  rules: LocalRule[];
  deliver: DeliverFunction;
  /** Called when a target with a deadLetterArn exhausts its retries. */
  onDeadLetter?: (target: LocalTarget, event: EventBridgeEvent, error: Error, attempts: number) => void;
  logger?: (msg: string, extra?: object) => void;
  /** First retry delay; each further retry doubles it. Default 50 ms (AWS waits far longer). */
  retryBaseDelayMs?: number;
  /** Ceiling for one retry delay. Default 2000 ms. */
  retryMaxDelayMs?: number;
  /** Local cap on retries per delivery, applied on top of the target's policy (AWS default 185). Default 5. */
  maxRetryAttempts?: number;
  /**
   * AWS answers PutEvents to a bus that does not exist with success and drops the event. Locally that is
   * the default too (with a warning in the log); set true to fail such entries with ResourceNotFoundException.
   */
  rejectUnknownBus?: boolean;
  /** When set, every call needs `events:<Operation>` on the bus it names, from the signing role's policies. */
  iam?: LocalIam;
}

/** Counters since start. */
export interface LocalEventBridgeStats {
  /** PutEvents calls answered 200. */
  putEvents: number;
  /** Entries accepted (given an EventId). */
  entries: number;
  /** (event, rule) pairs that matched. */
  matched: number;
  /** Successful target deliveries. */
  delivered: number;
  /** Retry attempts made. */
  retried: number;
  /** Deliveries handed to onDeadLetter after exhausting retries. */
  deadLettered: number;
  /** Deliveries given up with no dead-letter queue. */
  dropped: number;
  /** Entries accepted for a bus that does not exist (AWS drops those silently). */
  unknownBus: number;
}

/** A running local EventBridge. */
export interface LocalEventBridge {
  /** `http://host:port`, for `AWS_ENDPOINT_URL_EVENTBRIDGE` or a client's `endpoint`. */
  url: string;
  port: number;
  /** Stops the server; pending retries are abandoned. */
  close(): Promise<void>;
  stats(): LocalEventBridgeStats;
  /** Resolves once no delivery is in flight or waiting for a retry. */
  idle(): Promise<void>;
}
