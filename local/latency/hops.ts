/**
 * The network and service hops AWS adds between the stand-ins, with the published figures each is
 * fitted to. Where AWS (or anyone measuring it in public) gives no percentile, the figure is an
 * assumption and says so: docs/benchmarks.md lists the same table.
 */
export type Hop =
  | 'eventBridgeDelivery'
  | 'stepFunctionsStart'
  | 'stepFunctionsSyncStart'
  | 'dynamoDbStream'
  | 'sqs'
  | 'apiGatewayInvoke'
  | 'lambdaInvoke'
  | 'dynamoDbRequest'
  | 'connectionsPost'
  | 'coldStart';

export interface HopFigure {
  /** Median, ms. */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Where the two numbers come from, or that they are assumed. */
  source: string;
  /** True when no public percentile exists and the figure is our assumption. */
  assumed: boolean;
}

const BITESIZED =
  'bitesizedserverless.com, measured into Lambda, eu-west-1, 2022-23 (p50 / p99; /work/shared/FACTS.md "Latency on AWS, per hop")';

/** The `aws` profile: one lognormal per hop, median = p50 and 99th percentile = p99. */
export const AWS_HOPS: Readonly<Record<Hop, HopFigure>> = {
  eventBridgeDelivery: { p50: 148, p99: 387, source: `PutEvents → target invoked; ${BITESIZED}`, assumed: false },
  stepFunctionsStart: {
    p50: 118,
    p99: 298,
    source: `Express StartExecution → first state; ${BITESIZED}`,
    assumed: false,
  },
  stepFunctionsSyncStart: {
    p50: 77,
    p99: 241,
    source: `Express StartSyncExecution → first state; ${BITESIZED}`,
    assumed: false,
  },
  dynamoDbStream: {
    p50: 213,
    p99: 552,
    source: `DynamoDB write → stream handler invoked; ${BITESIZED}`,
    assumed: false,
  },
  sqs: { p50: 16, p99: 105, source: `SendMessage → consumer; ${BITESIZED}`, assumed: false },
  apiGatewayInvoke: {
    p50: 8,
    p99: 30,
    source:
      'API Gateway → Lambda integration overhead, warm: AWS publishes no percentile (the IntegrationLatency metric is per API). ' +
      'Assumed, from public anecdotes of roughly 30 ms per proxy layer seen from a browser (forum.serverless.com "Lambda call latency") ' +
      'less the Internet leg, and AWS\'s own "Operating Lambda" (warm invokes reuse the environment)',
    assumed: true,
  },
  lambdaInvoke: {
    p50: 5,
    p99: 20,
    source:
      'Invoke → handler, warm, in-region (Step Functions Task → Lambda): no published percentile; assumed a few ms ' +
      '(warm starts "within milliseconds", AWS Compute Blog "Operating Lambda: Performance optimization – Part 1")',
    assumed: true,
  },
  dynamoDbRequest: {
    p50: 6,
    p99: 20,
    source:
      'One DynamoDB request, in-region, client side: AWS promises "single-digit millisecond" service-side latency ' +
      '(AWS Database Blog "Understanding Amazon DynamoDB latency", SuccessfulRequestLatency) but no percentile; ' +
      'p50 6 ms and p99 20 ms assumed for the client-side round trip (Dynobase reports 10-20 ms as typical)',
    assumed: true,
  },
  connectionsPost: {
    p50: 10,
    p99: 40,
    source:
      'postToConnection (signed HTTPS POST → frame on the socket): AWS publishes no latency figure for WebSocket ' +
      "fan-out (FACTS.md); assumed 10 / 40 ms, a DynamoDB-like in-region round trip plus the gateway's own hop",
    assumed: true,
  },
  coldStart: {
    p50: 250,
    p99: 1000,
    source:
      'Extra on a cold start: AWS says cold starts occur in under 1% of invocations and last "from under 100 ms to ' +
      'over 1 second" (AWS Compute Blog "Operating Lambda: Performance optimization – Part 1"); 250 / 1,000 ms assumed. ' +
      'Off unless a rate is given',
    assumed: true,
  },
};

/** Hops that are a Lambda invocation, and so may pay a cold start. */
export const INVOKE_HOPS: ReadonlySet<Hop> = new Set<Hop>([
  'apiGatewayInvoke',
  'lambdaInvoke',
  'eventBridgeDelivery',
  'dynamoDbStream',
]);
