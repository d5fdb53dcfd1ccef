import type { ChildProcess } from 'node:child_process';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { spawnDynamoDbLocal } from '../../local/dynamodb.js';
import { freePort } from '../../local/free-port.js';

export { freePort };

/** A DynamoDB Local started for one test file. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** A client for `endpoint` (fixed region and credentials; the database is shared by all credentials). */
  client: DynamoDBClient;
  /** Destroys the client and stops the JVM. */
  stop(): Promise<void>;
}

/**
 * DynamoDB Local for the calling test file: started before its tests and stopped after them, with a
 * document client over it. Read the fields inside tests (they exist once beforeAll has run).
 */
export function useDynamoDbLocal(): { readonly db: DynamoDbLocal; readonly documents: DynamoDBDocumentClient } {
  let started: { db: DynamoDbLocal; documents: DynamoDBDocumentClient } | undefined;
  beforeAll(async () => {
    const db = await startDynamoDbLocal();
    started = { db, documents: DynamoDBDocumentClient.from(db.client) };
  });
  afterAll(async () => {
    await started?.db.stop();
  });
  const current = () => {
    if (!started) throw new Error('DynamoDB Local is not running (use it inside a test)');
    return started;
  };
  return {
    get db() {
      return current().db;
    },
    get documents() {
      return current().documents;
    },
  };
}

const READY_TIMEOUT_MS = 60_000;
const OUTPUT_LIMIT = 8_192;

/**
 * Starts DynamoDB Local in memory on a free port and resolves once it answers ListTables.
 * `-sharedDb` is on, so clients with any credentials or region see the same tables.
 */
export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const port = await freePort();
  const child = spawnDynamoDbLocal({ port, sharedDb: true, stdio: 'pipe' });
  // Drained so the JVM never blocks on a full pipe; the tail explains a failed start.
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const stop = async (): Promise<void> => {
    client.destroy();
    await terminate(child);
  };

  try {
    await waitUntilReady(client, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, client, stop };
}

async function waitUntilReady(client: DynamoDBClient, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`DynamoDB Local exited during start (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer within 60 s:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

let tablesCreated = 0;

/**
 * Creates an on-demand table with a string hash key `hashKey` and range key `rangeKey` (the key shape
 * of every table in db/template.yaml; a test that needs an index declares its own) and returns its name.
 */
export async function createKeyedTable(
  client: DynamoDBClient,
  prefix: string,
  hashKey: string,
  rangeKey = 'sk',
): Promise<string> {
  const TableName = `${prefix}-${++tablesCreated}`;
  await client.send(
    new CreateTableCommand({
      TableName,
      KeySchema: [
        { AttributeName: hashKey, KeyType: 'HASH' },
        { AttributeName: rangeKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: hashKey, AttributeType: 'S' },
        { AttributeName: rangeKey, AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return TableName;
}
