import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '../observability.js';

let documentClient: DynamoDBDocumentClient | undefined;

/** The container's DynamoDB document client, built once and traced. */
export function dynamoDb(): DynamoDBDocumentClient {
  if (!documentClient) {
    // No cacheMiddleware here: DynamoDBDocumentClient refuses it (it shares the client's stack).
    const client = tracer.captureAWSv3Client(new DynamoDBClient({ maxAttempts: 5 }));
    documentClient = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }
  return documentClient;
}
