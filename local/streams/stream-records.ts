import type { AttributeValue as SdkAttributeValue, _Record as SdkStreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord, StreamRecord } from 'aws-lambda';

/** Where the records came from, as Lambda names it in every record it hands the function. */
export interface RecordSource {
  /** The stream ARN as the function should see it (see {@link presentedStreamArn}). */
  streamArn: string;
  region: string;
}

/**
 * DynamoDB Local names its region `ddblocal` in stream ARNs and records. Functions and failure
 * records get the configured region instead, so ARNs look like the ones the templates build.
 */
export function presentedStreamArn(streamArn: string, region: string): string {
  return streamArn.replace(/^(arn:[^:]+:dynamodb:)ddblocal:/, `$1${region}:`);
}

/** The SDK decodes binary to bytes; Lambda's JSON event carries base64 strings, as on the wire. */
function toLambdaAttribute(value: SdkAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((bytes) => Buffer.from(bytes).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttribute) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  throw new Error(`unsupported attribute value: ${JSON.stringify(value)}`);
}

function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaAttribute(value)]));
}

/** Lambda sends whole epoch seconds; the SDK parsed the wire's number into a Date. */
function epochSeconds(date: Date | undefined): number | undefined {
  return date ? Math.floor(date.getTime() / 1000) : undefined;
}

/**
 * One GetRecords record as the event source mapping passes it to the function: the wire record,
 * plus `eventSourceARN`, with Lambda's field order.
 */
export function toLambdaRecord(record: SdkStreamRecord, source: RecordSource): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const dynamodb: StreamRecord = {};
  const created = epochSeconds(stream.ApproximateCreationDateTime);
  if (created !== undefined) dynamodb.ApproximateCreationDateTime = created;
  if (stream.Keys) dynamodb.Keys = toLambdaImage(stream.Keys);
  if (stream.NewImage) dynamodb.NewImage = toLambdaImage(stream.NewImage);
  if (stream.OldImage) dynamodb.OldImage = toLambdaImage(stream.OldImage);
  if (stream.SequenceNumber !== undefined) dynamodb.SequenceNumber = stream.SequenceNumber;
  if (stream.SizeBytes !== undefined) dynamodb.SizeBytes = stream.SizeBytes;
  if (stream.StreamViewType !== undefined) dynamodb.StreamViewType = stream.StreamViewType;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: source.region,
    dynamodb,
    eventSourceARN: source.streamArn,
    // Present only for TTL deletions; Lambda spells the fields in lower camel case.
    ...(record.userIdentity
      ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } }
      : {}),
  };
}

/** A record's sequence number; every stream record has one. */
export function sequenceNumberOf(record: DynamoDBRecord): string {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  if (sequenceNumber === undefined) throw new Error(`stream record ${record.eventID} has no SequenceNumber`);
  return sequenceNumber;
}
