import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { presentedStreamArn, toLambdaRecord } from '../../../../local/streams/stream-records.js';

const localArn = 'arn:aws:dynamodb:ddblocal:000000000000:table/Messages/stream/2026-01-01T00:00:00.000';

describe('presentedStreamArn', () => {
  it("swaps DynamoDB Local's region for the configured one", () => {
    expect(presentedStreamArn(localArn, 'us-east-1')).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/Messages/stream/2026-01-01T00:00:00.000',
    );
  });

  it('leaves a real ARN alone', () => {
    const arn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/T/stream/2026-01-01T00:00:00.000';
    expect(presentedStreamArn(arn, 'us-east-1')).toBe(arn);
  });
});

describe('toLambdaRecord', () => {
  const sdkRecord: _Record = {
    eventID: 'e-1',
    eventName: 'MODIFY',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-01-01T10:20:00.000Z'),
      Keys: { pk: { S: 'a' } },
      NewImage: {
        pk: { S: 'a' },
        blob: { B: new Uint8Array([1, 2, 255]) },
        blobs: { BS: [new Uint8Array([0]), new Uint8Array([104, 105])] },
        nested: { M: { list: { L: [{ N: '1' }, { B: new Uint8Array([7]) }, { NULL: true }, { BOOL: false }] } } },
        tags: { SS: ['x'] },
      },
      OldImage: { pk: { S: 'a' }, count: { NS: ['1', '2'] } },
      SequenceNumber: '000000000000000000042',
      SizeBytes: 33,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };

  it("builds Lambda's record: epoch seconds, base64 binaries, the region and the source ARN", () => {
    const record = toLambdaRecord(sdkRecord, { streamArn: 'arn:stream', region: 'us-east-1' });
    expect(record).toEqual({
      eventID: 'e-1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-01-01T10:20:00.000Z') / 1000,
        Keys: { pk: { S: 'a' } },
        NewImage: {
          pk: { S: 'a' },
          blob: { B: 'AQL/' },
          blobs: { BS: ['AA==', 'aGk='] },
          nested: { M: { list: { L: [{ N: '1' }, { B: 'Bw==' }, { NULL: true }, { BOOL: false }] } } },
          tags: { SS: ['x'] },
        },
        OldImage: { pk: { S: 'a' }, count: { NS: ['1', '2'] } },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 33,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: 'arn:stream',
    });
    // The event must survive the JSON round trip a real invocation makes.
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it("carries a TTL deletion's service identity in Lambda's spelling", () => {
    const record = toLambdaRecord(
      { ...sdkRecord, eventName: 'REMOVE', userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' } },
      { streamArn: 'arn:stream', region: 'us-east-1' },
    );
    expect(record.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
  });
});
