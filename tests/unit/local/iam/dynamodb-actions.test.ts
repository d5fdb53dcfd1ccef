import { describe, expect, it } from 'vitest';
import { LOCAL_STREAM_LABEL } from '../../../../local/cfn/stack.js';
import { dynamoDbCallOf } from '../../../../local/iam/dynamodb-actions.js';

const region = 'us-east-1';
const account = '000000000000';
const arn = (name: string) => `arn:aws:dynamodb:${region}:${account}:table/${name}`;
const map = (operation: string, body: Record<string, unknown>) =>
  dynamoDbCallOf(`DynamoDB_20120810.${operation}`, body, region, account);

describe('dynamoDbCallOf', () => {
  it('checks item operations on the table', () => {
    expect(map('GetItem', { TableName: 'Messages', Key: {} })).toEqual({
      operation: 'dynamodb:GetItem',
      required: [{ action: 'dynamodb:GetItem', resource: arn('Messages') }],
    });
    expect(map('UpdateItem', { TableName: 'Connections' }).required).toEqual([
      { action: 'dynamodb:UpdateItem', resource: arn('Connections') },
    ]);
  });

  it('checks a Query or Scan on an index against the index ARN', () => {
    expect(map('Query', { TableName: 'Messages', IndexName: 'pending-index' }).required).toEqual([
      { action: 'dynamodb:Query', resource: `${arn('Messages')}/index/pending-index` },
    ]);
    expect(map('Scan', { TableName: 'Messages' }).required).toEqual([
      { action: 'dynamodb:Scan', resource: arn('Messages') },
    ]);
  });

  it('authorises TransactWriteItems as the writes inside it, and TransactGetItems as GetItem', () => {
    const call = map('TransactWriteItems', {
      TransactItems: [
        { Put: { TableName: 'Messages', Item: {} } },
        { Update: { TableName: 'Conversations', Key: {} } },
        { Delete: { TableName: 'Subscriptions', Key: {} } },
        { ConditionCheck: { TableName: 'Connections', Key: {} } },
      ],
    });
    expect(call.operation).toBe('dynamodb:TransactWriteItems');
    expect(call.required).toEqual([
      { action: 'dynamodb:PutItem', resource: arn('Messages') },
      { action: 'dynamodb:UpdateItem', resource: arn('Conversations') },
      { action: 'dynamodb:DeleteItem', resource: arn('Subscriptions') },
      { action: 'dynamodb:ConditionCheckItem', resource: arn('Connections') },
    ]);
    expect(map('TransactGetItems', { TransactItems: [{ Get: { TableName: 'Messages', Key: {} } }] }).required).toEqual([
      { action: 'dynamodb:GetItem', resource: arn('Messages') },
    ]);
  });

  it('checks a batch on every table it touches', () => {
    expect(map('BatchWriteItem', { RequestItems: { Connections: [], Subscriptions: [] } }).required).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: arn('Connections') },
      { action: 'dynamodb:BatchWriteItem', resource: arn('Subscriptions') },
    ]);
    expect(map('BatchGetItem', { RequestItems: { Users: {} } }).required).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: arn('Users') },
    ]);
  });

  it('checks stream reads on the stream ARN the templates name, in the local region and account', () => {
    // DynamoDB Local labels the stream by its creation time; the templates' GetAtt StreamArn says 'local'.
    const localStream = 'arn:aws:dynamodb:ddblocal:000000000000:table/Messages/stream/2026-12-03T08:00:00.000';
    const stream = `${arn('Messages')}/stream/${LOCAL_STREAM_LABEL}`;
    const streams = (operation: string, body: Record<string, unknown>) =>
      dynamoDbCallOf(`DynamoDBStreams_20120810.${operation}`, body, region, account);
    expect(streams('DescribeStream', { StreamArn: localStream }).required).toEqual([
      { action: 'dynamodb:DescribeStream', resource: stream },
    ]);
    expect(streams('GetShardIterator', { StreamArn: localStream, ShardId: 's' }).required).toEqual([
      { action: 'dynamodb:GetShardIterator', resource: stream },
    ]);
    expect(streams('GetRecords', { ShardIterator: `000|${localStream}|shardId-0001|rest` }).required).toEqual([
      { action: 'dynamodb:GetRecords', resource: stream },
    ]);
    expect(streams('ListStreams', {}).required).toEqual([{ action: 'dynamodb:ListStreams', resource: '*' }]);
  });

  it('refuses to map a target that is not DynamoDB', () => {
    expect(() => dynamoDbCallOf('AWSEvents.PutEvents', {}, region, account)).toThrow(/not a DynamoDB target/);
  });
});
