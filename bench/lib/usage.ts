import { type LatencySummary, summarize } from './stats.js';
import type { StackUsage } from './switchboard-target.js';

/** A stack's usage divided by the number of operations (messages, joins, …) that caused it. */
export interface PerOperation {
  operations: number;
  /** Handler DynamoDB requests by operation, e.g. `TransactWriteItems`. */
  handlerDynamoDb: Record<string, number>;
  /** The state machine's DynamoDB requests (Query pages). */
  stateMachineDynamoDb: Record<string, number>;
  writeUnits: number;
  indexWriteUnits: number;
  readUnits: number;
  /** Units by `operation table[/index]`. */
  units: Record<string, number>;
  putEvents: number;
  eventEntries: number;
  /** EventBridge → Step Functions StartExecution (rule target deliveries). */
  startExecutions: number;
  executions: number;
  queryPages: number;
  postToConnection: number;
  /** Of those, the ones WebSocketActionsFunction made itself (the direct path); absent in older results. */
  directPosts?: number;
  postsAccepted: number;
  lambda: Record<string, number>;
  executionMs: LatencySummary;
  lambdaMs: Record<string, LatencySummary>;
  failedExecutions: number;
}

const divide = (record: Record<string, number>, by: number) =>
  Object.fromEntries(Object.entries(record).map(([key, value]) => [key, value / by]));

/** Normalises a usage window by `operations`. */
export function perOperation(usage: StackUsage, operations: number): PerOperation {
  const by = Math.max(1, operations);
  const units: Record<string, number> = {};
  for (const [key, value] of Object.entries(usage.handlerDynamoDb.units)) units[key] = value / by;
  for (const [key, value] of Object.entries(usage.stateMachineDynamoDb.units)) {
    units[`${key} (state machine)`] = value / by;
  }
  return {
    operations,
    handlerDynamoDb: divide(usage.handlerDynamoDb.requests, by),
    stateMachineDynamoDb: divide(usage.stateMachineDynamoDb.requests, by),
    writeUnits: (usage.handlerDynamoDb.writeUnits + usage.stateMachineDynamoDb.writeUnits) / by,
    indexWriteUnits: (usage.handlerDynamoDb.indexWriteUnits + usage.stateMachineDynamoDb.indexWriteUnits) / by,
    readUnits: (usage.handlerDynamoDb.readUnits + usage.stateMachineDynamoDb.readUnits) / by,
    units,
    putEvents: usage.putEventsCalls / by,
    eventEntries: usage.eventEntries / by,
    startExecutions: usage.targetDeliveries / by,
    executions: usage.executions / by,
    queryPages: (usage.stateMachineDynamoDb.requests.Query ?? 0) / by,
    postToConnection: (usage.handlerRequests['execute-api:PostToConnection'] ?? 0) / by,
    directPosts: usage.directPosts / by,
    postsAccepted: usage.postsAccepted / by,
    lambda: divide(usage.invocations, by),
    executionMs: summarize(usage.executionMs),
    lambdaMs: Object.fromEntries(Object.entries(usage.invocationMs).map(([name, list]) => [name, summarize(list)])),
    failedExecutions: usage.failedExecutions,
  };
}
