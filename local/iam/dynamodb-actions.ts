import { LOCAL_STREAM_LABEL } from '../cfn/stack.js';
import type { RequiredPermission } from './authorizer.js';

/**
 * What IAM checks for one DynamoDB or DynamoDB Streams request: the action(s) and resource ARN(s)
 * AWS authorises it as. A Query or Scan with IndexName needs the index ARN; TransactWriteItems is
 * authorised as the PutItem/UpdateItem/DeleteItem/ConditionCheckItem inside it and TransactGetItems
 * as GetItem; batches need their action on every table they touch; stream reads are on the stream ARN.
 */

export interface DynamoDbCall {
  /** `dynamodb:Query`, for counting: the API operation that was called. */
  operation: string;
  required: RequiredPermission[];
}

export const DYNAMODB_TARGET_PREFIX = 'DynamoDB_20120810.';
export const STREAMS_TARGET_PREFIX = 'DynamoDBStreams_20120810.';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const TRANSACT_WRITE_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** Thrown for a request that cannot be mapped (no operation, a malformed body). */
export class UnmappableRequestError extends Error {
  override name = 'UnmappableRequestError';
}

/**
 * Maps an `X-Amz-Target` and its JSON body to what IAM checks.
 * @param region and `accountId` build the ARNs; a stream ARN from DynamoDB Local (region `ddblocal`)
 * is read as one in `region`.
 */
export function dynamoDbCallOf(target: string, body: Json, region: string, accountId: string): DynamoDbCall {
  const tableArn = (name: unknown) => {
    const text = String(name ?? '');
    return text.startsWith('arn:') ? text : `arn:aws:dynamodb:${region}:${accountId}:table/${text}`;
  };
  // The templates' `!GetAtt Table.StreamArn` is evaluated before DynamoDB Local creates the table and
  // picks the stream's label (its creation time), so the model names each table's one stream by
  // LOCAL_STREAM_LABEL; a request's real label is read as that.
  const streamArn = (value: unknown) => {
    const parts = String(value ?? '').split(':');
    if (parts.length < 6) return String(value ?? '*');
    parts[3] = region;
    parts[4] = accountId;
    return parts.join(':').replace(/\/stream\/[^/]+$/, `/stream/${LOCAL_STREAM_LABEL}`);
  };

  if (target.startsWith(STREAMS_TARGET_PREFIX)) {
    const operation = target.slice(STREAMS_TARGET_PREFIX.length);
    const action = `dynamodb:${operation}`;
    switch (operation) {
      case 'ListStreams':
        return { operation: action, required: [{ action, resource: '*' }] };
      case 'DescribeStream':
      case 'GetShardIterator':
        return { operation: action, required: [{ action, resource: streamArn(body.StreamArn) }] };
      case 'GetRecords':
        return {
          operation: action,
          required: [{ action, resource: streamArnOfIterator(body.ShardIterator, streamArn) }],
        };
      default:
        return { operation: action, required: [{ action, resource: '*' }] };
    }
  }
  if (!target.startsWith(DYNAMODB_TARGET_PREFIX)) throw new UnmappableRequestError(`not a DynamoDB target: ${target}`);
  const operation = target.slice(DYNAMODB_TARGET_PREFIX.length);
  const action = `dynamodb:${operation}`;
  const call = (required: RequiredPermission[]): DynamoDbCall => ({ operation: action, required });

  switch (operation) {
    case 'Query':
    case 'Scan': {
      const table = tableArn(body.TableName);
      return call([{ action, resource: body.IndexName ? `${table}/index/${String(body.IndexName)}` : table }]);
    }
    case 'BatchGetItem':
    case 'BatchWriteItem': {
      const tables = isObject(body.RequestItems) ? Object.keys(body.RequestItems) : [];
      return call(tables.map((name) => ({ action, resource: tableArn(name) })));
    }
    case 'TransactWriteItems': {
      const items = Array.isArray(body.TransactItems) ? body.TransactItems : [];
      return call(
        items.flatMap((item) => {
          if (!isObject(item)) return [];
          return Object.entries(item).flatMap(([kind, detail]) => {
            const inner = TRANSACT_WRITE_ACTIONS[kind];
            if (!inner || !isObject(detail)) return [];
            return [{ action: inner, resource: tableArn(detail.TableName) }];
          });
        }),
      );
    }
    case 'TransactGetItems': {
      const items = Array.isArray(body.TransactItems) ? body.TransactItems : [];
      return call(
        items.flatMap((item) =>
          isObject(item) && isObject(item.Get)
            ? [{ action: 'dynamodb:GetItem', resource: tableArn(item.Get.TableName) }]
            : [],
        ),
      );
    }
    case 'ListTables':
      return call([{ action, resource: `arn:aws:dynamodb:${region}:${accountId}:table/*` }]);
    default:
      // GetItem, PutItem, UpdateItem, DeleteItem, DescribeTable, CreateTable, UpdateTimeToLive...: the table.
      if (body.TableName !== undefined) return call([{ action, resource: tableArn(body.TableName) }]);
      if (body.ResourceArn !== undefined) return call([{ action, resource: String(body.ResourceArn) }]);
      return call([{ action, resource: '*' }]);
  }
}

/**
 * DynamoDB Local's shard iterators carry the stream ARN in clear text
 * (`000|arn:aws:dynamodb:ddblocal:...:table/T/stream/...|...`); AWS authorises GetRecords on that stream.
 */
function streamArnOfIterator(iterator: unknown, normalise: (arn: string) => string): string {
  const match = /arn:aws:dynamodb:[^|]*?\/stream\/[^|]+/.exec(String(iterator ?? ''));
  return match ? normalise(match[0]) : '*';
}
