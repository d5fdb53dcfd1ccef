import { LatencyModel } from '../../local/latency/model.js';
import { type LatencySummary, summarize } from './stats.js';

/** The shape of one delivery path, as the handlers and the state machine run it. */
export interface PathShape {
  /** DynamoDB requests in series before the posts (rate limit, write, the subscribers' Query…). */
  dynamoDbInSeries: number;
  /** EventBridge → Step Functions → PostToConnectionsFunction before the posts. */
  viaStateMachine: boolean;
  /** Connections per PostToConnectionsFunction batch (PostBatchSize) and batches at once (the Map's MaxConcurrency). */
  batchSize: number;
  mapConcurrency: number;
  /** Posts in flight at once in one function (POST_CONCURRENCY). */
  postConcurrency: number;
}

/**
 * The direct path: the rate limit's UpdateItem, the room-access check's BatchGetItem and the seq
 * counter's GetItem (side by side, counted as one), TransactWriteItems, the live-subscribers Query (the
 * sender's read position's UpdateItem beside it), then the posts, 32 at a time.
 */
export const DIRECT_ROOM: PathShape = {
  dynamoDbInSeries: 3,
  viaStateMachine: false,
  batchSize: 100,
  mapConcurrency: 10,
  postConcurrency: 32,
};

/**
 * A direct message on the direct path: the rate limit, the conversation's GetItem and the seq counter's
 * GetItem (side by side, one), TransactWriteItems, then the two Queries of the participants' topics
 * (side by side, one) with the two conversation summaries' UpdateItems beside them, before the posts.
 */
export const DIRECT_DM: PathShape = { ...DIRECT_ROOM, dynamoDbInSeries: 3 };

/**
 * The long path: rate limit beside the reads, the write, PutEvents, EventBridge, Express, the Query, a
 * batch invoke, the posts (PostToConnectionsFunction's POST_CONCURRENCY, 32, workflows/template.yaml).
 */
export const STATE_MACHINE_ROOM: PathShape = { ...DIRECT_ROOM, viaStateMachine: true };

/**
 * The latency model's own floor for one message: send → receipt at each of `members`, with every
 * local cost at zero and only the modelled AWS hops left (PutEvents' own round trip is not modelled,
 * nor is any handler's CPU). Monte Carlo over `messages` messages with a model of its own, so the
 * figure is reproducible and independent of the run it is printed beside.
 */
export function modelFloor(members: number, shape: PathShape, messages = 4000, seed = 99): LatencySummary {
  const model = new LatencyModel({ profile: 'aws', seed });
  const samples: number[] = [];
  for (let message = 0; message < messages; message++) {
    let start = model.draw('apiGatewayInvoke');
    // On the long path the Query is the state machine's; the handler's requests are the rest.
    const writes = shape.viaStateMachine ? shape.dynamoDbInSeries - 1 : shape.dynamoDbInSeries;
    for (let request = 0; request < writes; request++) start += model.draw('dynamoDbRequest');
    if (shape.viaStateMachine) {
      start += model.draw('eventBridgeDelivery') + model.draw('stepFunctionsStart') + model.draw('dynamoDbRequest');
    }
    const batches = shape.viaStateMachine ? Math.ceil(members / shape.batchSize) : 1;
    // Batches take Map slots in order; each posts its share with `postConcurrency` in flight.
    const slots = new Array<number>(shape.viaStateMachine ? shape.mapConcurrency : 1).fill(start);
    for (let batch = 0; batch < batches; batch++) {
      const slot = slots.indexOf(Math.min(...slots));
      const began = (slots[slot] ?? start) + (shape.viaStateMachine ? model.draw('lambdaInvoke') : 0);
      const size = shape.viaStateMachine ? Math.min(shape.batchSize, members - batch * shape.batchSize) : members;
      const lanes = new Array<number>(Math.min(shape.postConcurrency, size)).fill(began);
      for (let post = 0; post < size; post++) {
        const lane = lanes.indexOf(Math.min(...lanes));
        const delivered = (lanes[lane] ?? began) + model.draw('connectionsPost');
        lanes[lane] = delivered;
        samples.push(delivered);
      }
      slots[slot] = Math.max(...lanes);
    }
  }
  return summarize(samples);
}
