/**
 * Counts DynamoDB requests and the capacity they consume, by attaching a middleware to a client.
 * It asks every request for `ReturnConsumedCapacity: INDEXES`, so DynamoDB Local reports the table
 * and index units it charged; the responses otherwise stay as they were.
 */

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** Units as AWS would bill them: see {@link DynamoDbMeter}. */
export interface CapacityTotals {
  readUnits: number;
  writeUnits: number;
  /** Of writeUnits, the part spent keeping global secondary indexes up to date. */
  indexWriteUnits: number;
}

export interface DynamoDbMeterSnapshot extends CapacityTotals {
  /** Requests by operation, e.g. `{ Query: 3, TransactWriteItems: 1 }`. */
  requests: Record<string, number>;
  /** Units by `operation table[/index]`, for the breakdown tables. */
  units: Record<string, number>;
}

interface Capacity {
  TableName?: string;
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
      options: { step: 'initialize'; name: string; override?: boolean },
    ): void;
  };
}

/**
 * AWS bills each item of a TransactWriteItems at 2 units per KB; DynamoDB Local's own count for
 * transactions is not that (1 per item on a plain Put, more with conditions), so it is recomputed
 * from the request. Items too small to measure (Update, Delete, ConditionCheck) count as 1 KB.
 */
function transactionUnits(input: Record<string, unknown>): Map<string, number> {
  const units = new Map<string, number>();
  for (const action of (input.TransactItems as Array<Record<string, Record<string, unknown>>> | undefined) ?? []) {
    for (const [kind, body] of Object.entries(action)) {
      const table = String(body.TableName);
      const bytes = kind === 'Put' ? JSON.stringify(body.Item ?? {}).length : 1024;
      units.set(table, (units.get(table) ?? 0) + 2 * Math.max(1, Math.ceil(bytes / 1024)));
    }
  }
  return units;
}

/**
 * A meter on one or more clients. Units are DynamoDB Local's ConsumedCapacity (tables and global
 * secondary indexes), corrected where it differs from AWS billing: transactions (see
 * {@link transactionUnits}), and writes whose condition failed, which return no ConsumedCapacity
 * but cost one unit on AWS.
 */
export class DynamoDbMeter {
  private requests: Record<string, number> = {};
  private units: Record<string, number> = {};
  private totals: CapacityTotals = { readUnits: 0, writeUnits: 0, indexWriteUnits: 0 };

  /** Attaches the meter to a client (a DynamoDBClient or a DocumentClient sharing its stack). */
  attach(client: unknown, name = 'benchDynamoDbMeter'): void {
    (client as MiddlewareClient).middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? 'Command').replace(/Command$/, '');
        const metered = READS.has(operation) || WRITES.has(operation);
        // The command's input object is what the Document client marshals later, so this sticks.
        if (metered && args.input.ReturnConsumedCapacity === undefined) args.input.ReturnConsumedCapacity = 'INDEXES';
        this.requests[operation] = (this.requests[operation] ?? 0) + 1;
        try {
          const result = await next(args);
          if (metered) {
            this.record(operation, result.output.ConsumedCapacity as Capacity | Capacity[] | undefined, args.input);
          }
          return result;
        } catch (error) {
          // AWS still bills a write whose condition failed (1 unit for an item up to 1 KB); no index is touched.
          if ((error as Error).name === 'ConditionalCheckFailedException' && WRITES.has(operation)) {
            this.add(`${operation} ${String(args.input.TableName)} (condition failed)`, 1);
            this.totals.writeUnits += 1;
          }
          throw error;
        }
      },
      { step: 'initialize', name, override: true },
    );
  }

  private record(operation: string, consumed: Capacity | Capacity[] | undefined, input: Record<string, unknown>): void {
    const isWrite = WRITES.has(operation);
    const transactional = operation === 'TransactWriteItems' ? transactionUnits(input) : undefined;
    for (const capacity of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
      const table = capacity.TableName ?? '?';
      const indexes = Object.entries(capacity.GlobalSecondaryIndexes ?? {});
      const indexUnits = indexes.reduce((sum, [, value]) => sum + (value.CapacityUnits ?? 0), 0);
      const tableUnits =
        transactional?.get(table) ?? capacity.Table?.CapacityUnits ?? (capacity.CapacityUnits ?? 0) - indexUnits;
      this.add(`${operation} ${table}`, tableUnits);
      for (const [index, value] of indexes) this.add(`${operation} ${table}/${index}`, value.CapacityUnits ?? 0);
      if (isWrite) {
        this.totals.writeUnits += tableUnits + indexUnits;
        this.totals.indexWriteUnits += indexUnits;
      } else {
        this.totals.readUnits += tableUnits + indexUnits;
      }
    }
  }

  private add(key: string, units: number): void {
    this.units[key] = (this.units[key] ?? 0) + units;
  }

  snapshot(): DynamoDbMeterSnapshot {
    return { requests: { ...this.requests }, units: { ...this.units }, ...this.totals };
  }

  reset(): void {
    this.requests = {};
    this.units = {};
    this.totals = { readUnits: 0, writeUnits: 0, indexWriteUnits: 0 };
  }
}
