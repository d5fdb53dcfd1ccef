import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsForRole, functionRoleName, OPERATOR_ROLE } from '../../local/iam/credentials.js';
import type { LocalStack } from '../../local/stack.js';
import { connectionIdOf, type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { type Frame, startTestStack, TestClient } from '../helpers/local-stack.js';
import { connectionRecord, plantGhost } from '../helpers/stack-tables.js';
import { copyTemplatesWith, type TemplateEdit } from '../helpers/template-copy.js';

/**
 * Local green means AWS green for IAM: every function runs in its own sandbox as its own role, and every
 * endpoint authorises each call against the roles SAM would generate from the templates. The real
 * message path passes on the templates as they are; take one grant the code uses out of a copy of the
 * templates, and the same path is refused with AccessDenied where AWS would refuse it.
 */

interface StackUnderTest {
  stack: LocalStack;
  /** The @connections API as the functions reach it, through a recording proxy. */
  management: FaultProxy;
  /** `iam: denied …` lines from the stack's logger, as `npm start -- --verbose` prints them. */
  denials: string[];
  close(): Promise<void>;
}

async function startUnderTest(
  edits: readonly TemplateEdit[] = [],
  parameters: Record<string, string> = {},
): Promise<StackUnderTest> {
  const copy = edits.length > 0 ? await copyTemplatesWith(edits) : undefined;
  const management = await startFaultProxy();
  const denials: string[] = [];
  const stack = await startTestStack({
    ...(copy ? { templatePath: copy.templatePath } : {}),
    log: (message, extra) => {
      if (message.startsWith('iam: denied')) denials.push(`${message} ${JSON.stringify(extra ?? {})}`);
    },
    endpoints: { managementApi: management.url },
    parameters,
  }).catch(async (error: unknown) => {
    await management.close();
    await copy?.remove();
    throw error;
  });
  management.setUpstream(stack.urls.management);
  return {
    stack,
    management,
    denials,
    async close() {
      await stack.close();
      await management.close();
      await copy?.remove();
    },
  };
}

/** Polls until the condition holds; a bound on waiting, not an assertion on time. */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const isMessage = (messageId: string) => (frame: Frame) => frame.type === 'message' && frame.messageId === messageId;
const copiesAt = (client: TestClient, messageId: string) => client.frames.filter(isMessage(messageId)).length;

interface RoomOutcome {
  /** Copies of the message each live member received. */
  copies: number[];
  /** The frames the functions posted to the stale connection, with the status the gateway answered. */
  postsToStale: Array<{ type: unknown; status: number }>;
  staleRemoved: boolean;
}

/**
 * Two live members and one stale connection in a room; one member sends a message. With the templates
 * as they are the test waits for every member and for the stack to settle; without a grant it waits for
 * the refusal instead (a refused task would otherwise sit in the state machine's retries for minutes).
 */
async function sendIntoRoomWithStaleMember(
  under: StackUnderTest,
  room: string,
  settle: { kind: 'delivered' } | { kind: 'refused'; action: string },
) {
  const { stack, management } = under;
  const [ann, ben] = [
    await TestClient.join(stack, { userId: `${room}-ann`, room }),
    await TestClient.join(stack, { userId: `${room}-ben`, room }),
  ];
  if (!ann || !ben) throw new Error('members missing');
  // The joins' presence frames go out first, so the message is the first post the stale connection sees.
  // (Without a grant the stack may never settle: a refused task waits out the state machine's retries.)
  if (settle.kind === 'delivered') await stack.idle();
  const stale = `${room.replace(/[^A-Za-z]/g, '')}Stale0=`;
  // Rows present, connected ten minutes ago, no socket: the gateway answers 410.
  await plantGhost(stack, stale, room, { openedAgoMs: 600_000, userId: `ghost-${room}` });
  const messageId = `${room}-1`;
  try {
    ann.send({ action: 'sendMessage', room, message: 'who is still here?', messageId });
    if (settle.kind === 'delivered') {
      await Promise.all([ann, ben].map((member) => member.waitFor(isMessage(messageId))));
      await stack.idle();
    } else {
      await until(() => under.denials.some((line) => line.includes(`iam: denied ${settle.action}`)));
    }
    const outcome: RoomOutcome = {
      copies: [ann, ben].map((member) => copiesAt(member, messageId)),
      postsToStale: management
        .log()
        .filter((entry) => entry.method === 'POST' && connectionIdOf(entry.path) === stale)
        .map((entry) => ({ type: (JSON.parse(entry.body) as Frame).type, status: entry.status })),
      staleRemoved: (await connectionRecord(stack, stale)) === undefined,
    };
    return outcome;
  } finally {
    await Promise.all([ann.close(), ben.close()]);
  }
}

const roleOf = (stack: LocalStack, logicalId: string) => {
  const fn = stack.model.functions.find((candidate) => candidate.logicalId === logicalId);
  if (!fn) throw new Error(`no function ${logicalId}`);
  return functionRoleName(fn.name);
};

describe.each([
  { path: 'the direct path (sendMessage posts to a small room itself)', parameters: {} as Record<string, string> },
  { path: 'the state machine (DirectFanoutMaxMembers=0)', parameters: { DirectFanoutMaxMembers: '0' } },
])('the templates as they are, with IAM enforced and one sandbox per function, on $path', ({ parameters }) => {
  let under: StackUnderTest;
  beforeAll(async () => {
    under = await startUnderTest([], parameters);
  });
  afterAll(() => under?.close());

  it('removes a stale connection after one post answered 410, and every live member gets the message once', async () => {
    const outcome = await sendIntoRoomWithStaleMember(under, 'stale-room', { kind: 'delivered' });
    expect(outcome.copies).toEqual([1, 1]);
    // One post, no retry of the batch: the 410 path has every grant it needs.
    expect(outcome.postsToStale).toEqual([{ type: 'message', status: 410 }]);
    expect(outcome.staleRemoved).toBe(true);
    expect(under.denials).toEqual([]);
  });

  it('signs each function as its own role, and the operator only where the test reads tables', async () => {
    const counts = under.stack.requests();
    expect(counts[roleOf(under.stack, 'WebSocketActionsFunction')]?.['dynamodb:TransactWriteItems']).toBeGreaterThan(0);
    // The stale connection's post and its 410 cleanup, by whichever function fanned the message out.
    const poster = parameters.DirectFanoutMaxMembers === '0' ? 'PostToConnectionsFunction' : 'WebSocketActionsFunction';
    expect(counts[roleOf(under.stack, poster)]?.['execute-api:PostToConnection']).toBeGreaterThan(0);
    expect(counts[roleOf(under.stack, poster)]?.['dynamodb:GetItem']).toBeGreaterThan(0);
    expect(counts[OPERATOR_ROLE]?.['events:PutEvents']).toBeUndefined();
    expect(credentialsForRole(roleOf(under.stack, 'ConnectFunction')).accessKeyId).not.toBe(
      credentialsForRole(OPERATOR_ROLE).accessKeyId,
    );
  });
});

/** A statement block to take out of a template, found by its exact text (`keep` stays in its place). */
const remove = (file: string, find: string, keep = ''): TemplateEdit => ({ file, find, replace: keep });

describe.each([
  {
    service: 'DynamoDB',
    grant: 'dynamodb:GetItem on Connections for PostToConnectionsFunction (the 410 path)',
    // The first GoneConnection statement in the file is PostToConnectionsFunction's.
    edits: [
      {
        file: 'workflows/template.yaml',
        find: '            - Sid: GoneConnection\n              Effect: Allow\n              Action:\n                - dynamodb:GetItem\n                - dynamodb:DeleteItem\n',
        replace:
          '            - Sid: GoneConnection\n              Effect: Allow\n              Action:\n                - dynamodb:DeleteItem\n',
      },
    ],
    denied: { role: 'PostToConnectionsFunction', action: 'dynamodb:GetItem' },
    check: (outcome: RoomOutcome) => {
      // The stale connection is never removed: its 410 turns into AccessDenied, as it would on AWS.
      expect(outcome.staleRemoved).toBe(false);
    },
  },
  {
    service: 'execute-api',
    grant: 'execute-api:ManageConnections for PostToConnectionsFunction',
    // The first PostToConnections statement in the file is PostToConnectionsFunction's.
    edits: [
      remove(
        'workflows/template.yaml',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's ${} in the template's text
        '            - Sid: PostToConnections\n              Effect: Allow\n              Action: execute-api:ManageConnections\n              Resource: !Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApiId}/${Stage}/POST/@connections/*\n',
      ),
    ],
    denied: { role: 'PostToConnectionsFunction', action: 'execute-api:ManageConnections' },
    check: (outcome: RoomOutcome) => {
      expect(outcome.copies).toEqual([0, 0]);
    },
  },
  {
    service: 'EventBridge',
    grant: 'events:PutEvents for WebSocketActionsFunction',
    edits: [
      remove(
        'api/template.yaml',
        '              Resource: !Ref ConversationsTableArn\n            - Sid: PublishEvents\n              Effect: Allow\n              Action: events:PutEvents\n              Resource: !Ref EventBusArn\n',
        '              Resource: !Ref ConversationsTableArn\n',
      ),
    ],
    denied: { role: 'WebSocketActionsFunction', action: 'events:PutEvents' },
    check: (outcome: RoomOutcome) => {
      expect(outcome.copies).toEqual([0, 0]);
    },
  },
  {
    service: 'Step Functions (the state machine role)',
    grant: 'lambda:InvokeFunction on PostToConnectionsFunction for the distribution state machine',
    edits: [
      remove(
        'workflows/template.yaml',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's ${} in the template's text
        '            - Sid: InvokePostToConnections\n              Effect: Allow\n              Action: lambda:InvokeFunction\n              Resource:\n                - !GetAtt PostToConnectionsFunction.Arn\n                - !Sub ${PostToConnectionsFunction.Arn}:*\n',
      ),
    ],
    denied: { role: 'MessageDistribution', action: 'lambda:InvokeFunction' },
    check: (outcome: RoomOutcome) => {
      expect(outcome.copies).toEqual([0, 0]);
    },
  },
])('without $grant ($service)', ({ edits, denied, check }) => {
  let under: StackUnderTest;
  beforeAll(async () => {
    // These grants serve the design card's path: EventBridge, the state machine, the fan-out task.
    under = await startUnderTest(edits, { DirectFanoutMaxMembers: '0' });
  });
  afterAll(() => under?.close());

  it('refuses the call with AccessDenied, and the message path fails where AWS would fail it', async () => {
    const room = `grant-${denied.action.replace(/\W/g, '-')}`;
    const outcome = await sendIntoRoomWithStaleMember(under, room, { kind: 'refused', action: denied.action });
    check(outcome);
    expect(
      under.denials.some((line) => line.includes(`iam: denied ${denied.action}`) && line.includes(denied.role)),
    ).toBe(true);
  });
});

describe('without the queue policy that lets EventBridge use the dead-letter queue (SQS)', () => {
  let under: StackUnderTest;
  beforeAll(async () => {
    under = await startUnderTest([
      {
        file: 'shared/template.yaml',
        find: [
          '          - Sid: AllowRulesOnOurBus',
          '            Effect: Allow',
          '            Principal:',
          '              Service: events.amazonaws.com',
          '            Action: sqs:SendMessage',
          '            Resource: !GetAtt EventTargetDeadLetterQueue.Arn',
          '            Condition:',
          '              ArnLike:',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's ${} in the template's text
          '                aws:SourceArn: !Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${EventBusName}/*',
          '',
        ].join('\n'),
        replace: '',
      },
    ]);
  });
  afterAll(() => under?.close());

  it("refuses the rule's dead-letter send with AccessDenied, so the refused event is not kept", async () => {
    const { stack } = under;
    const session = stack.model.functions.find((fn) => fn.logicalId === 'SessionStartFunction');
    if (!session) throw new Error('no SessionStartFunction');
    const invoke = stack.functions.invoke.bind(stack.functions);
    // Lambda refuses every event for SessionStartFunction, so EventBridge gives up and dead-letters it.
    stack.functions.invoke = async (nameOrArn, event, options) => {
      if (nameOrArn === session.arn || nameOrArn === session.name) throw new Error('target unavailable');
      return invoke(nameOrArn, event, options);
    };
    try {
      // $connect announces ConnectionOpened, whose rule targets SessionStartFunction.
      const client = await TestClient.connect(stack, { userId: 'dlq-denied', room: 'dlq-denied' });
      await until(() => under.denials.some((line) => line.includes('iam: denied sqs:SendMessage')));
      expect(stack.sqs.messages('EventTargetDeadLetterQueue')).toEqual([]);
      await client.close();
    } finally {
      stack.functions.invoke = invoke;
    }
  });
});
