import { describe, expect, it } from 'vitest';
import { DIRECT_DM, DIRECT_ROOM, modelFloor, STATE_MACHINE_ROOM } from '../../../../bench/lib/latency-floor.js';
import { AWS_HOPS } from '../../../../local/latency/model.js';

describe('modelFloor', () => {
  it('puts the EventBridge and Express hops on the long path only', () => {
    const hops = AWS_HOPS.eventBridgeDelivery.p50 + AWS_HOPS.stepFunctionsStart.p50;
    const long = modelFloor(2, STATE_MACHINE_ROOM, 2000);
    const direct = modelFloor(2, DIRECT_ROOM, 2000);
    expect(long.p50).toBeGreaterThan(hops);
    expect(direct.p50).toBeLessThan(AWS_HOPS.eventBridgeDelivery.p50 / 2);
    // API Gateway → Lambda, four DynamoDB requests (the seq counter read included) and a post: at least
    // their medians' sum, roughly.
    const sum = AWS_HOPS.apiGatewayInvoke.p50 + 4 * AWS_HOPS.dynamoDbRequest.p50 + AWS_HOPS.connectionsPost.p50;
    expect(direct.p50).toBeGreaterThan(sum * 0.9);
  });

  it('gives a big room a later tail: posts queue behind POST_CONCURRENCY and batches behind the Map', () => {
    const small = modelFloor(10, DIRECT_ROOM, 500);
    const hundred = modelFloor(100, DIRECT_ROOM, 200);
    expect(hundred.p99).toBeGreaterThan(small.p99);
    expect(hundred.count).toBe(100 * 200);
    // 1,000 members: 10 batches of 100 in one wave of the Map, so not ten times a batch.
    const thousand = modelFloor(1000, STATE_MACHINE_ROOM, 50);
    const oneBatch = modelFloor(100, STATE_MACHINE_ROOM, 500);
    expect(thousand.p50).toBeLessThan(oneBatch.p50 * 1.5);
  });

  it('grows with each DynamoDB round trip in series', () => {
    const oneMore = { ...DIRECT_DM, dynamoDbInSeries: DIRECT_DM.dynamoDbInSeries + 1 };
    expect(modelFloor(2, oneMore, 2000).p50).toBeGreaterThan(modelFloor(2, DIRECT_DM, 2000).p50);
    // A DM now makes as many round trips in series as a room message (its summaries go beside the Queries).
    expect(DIRECT_DM.dynamoDbInSeries).toBe(DIRECT_ROOM.dynamoDbInSeries);
  });
});
