import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaService, startLambdaService } from '../../../../local/lambda/service.js';
import { type LocalFunction, loadLocalFunctions } from '../../../../local/stack-model.js';
import { type LocalStepFunctions, startLocalStepFunctions } from '../../../../local/stepfunctions/server.js';
import { withAwsTaskTimeouts } from '../../../../local/stepfunctions/task-handlers.js';

const TEMPLATE = resolve(import.meta.dirname, '../../../fixtures/lambda/template.yaml');
const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Timeouts';

let functions: LocalFunction[];
let service: LambdaService;
let stepFunctions: LocalStepFunctions;
let sfn: SFNClient;
const unused = new DynamoDBClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1' });

/** One lambda:invoke Task: the function, the Task's own TimeoutSeconds, and how long the handler sleeps. */
function definition(functionArn: string, timeoutSeconds: number | undefined, sleepMs: number): string {
  return JSON.stringify({
    StartAt: 'Invoke',
    States: {
      Invoke: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: functionArn, Payload: { sleepMs } },
        ...(timeoutSeconds === undefined ? {} : { TimeoutSeconds: timeoutSeconds }),
        End: true,
      },
    },
  });
}

const arnOf = (logicalId: string) => functions.find((fn) => fn.logicalId === logicalId)?.arn ?? '';

beforeAll(async () => {
  functions = await loadLocalFunctions({
    templatePath: TEMPLATE,
    stackName: 'fixture',
    region: 'us-east-1',
    accountId: '000000000000',
  });
  service = await startLambdaService({
    functions,
    region: 'us-east-1',
    endpoints: () => ({ dynamoDb: '', eventBridge: '', stepFunctions: '', managementApi: '' }),
  });
  // ReservedFunction has Timeout 5, SlowFunction Timeout 1; both sleep as long as the payload says.
  stepFunctions = await startLocalStepFunctions({
    port: 0,
    stateMachines: [
      {
        name: 'TaskBudgetShorter',
        arn: `${MACHINE_ARN}A`,
        type: 'EXPRESS',
        definition: definition(arnOf('ReservedFunction'), 1, 2500),
      },
      {
        name: 'FunctionTimeoutShorter',
        arn: `${MACHINE_ARN}B`,
        type: 'EXPRESS',
        definition: definition(arnOf('SlowFunction'), 3, 2500),
      },
      {
        name: 'NoTaskBudget',
        arn: `${MACHINE_ARN}C`,
        type: 'EXPRESS',
        definition: definition(arnOf('SlowFunction'), undefined, 10),
      },
    ],
    dynamoDbClient: unused,
    invokeLambda: (name, payload) => service.invoke(name, payload),
  });
  sfn = new SFNClient({
    endpoint: stepFunctions.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    disableHostPrefix: true,
  });
});

afterAll(async () => {
  sfn?.destroy();
  await stepFunctions?.close();
  await service?.close();
  unused.destroy();
});

describe("a lambda:invoke Task's TimeoutSeconds against the function's own Timeout", () => {
  it('fails with States.Timeout when the Task gives up first', async () => {
    const result = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: `${MACHINE_ARN}A`, input: '{}' }));
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.Timeout');
  });

  it("fails with the function's Sandbox.Timedout when the function's Timeout is shorter", async () => {
    const result = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: `${MACHINE_ARN}B`, input: '{}' }));
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Sandbox.Timedout');
    expect(JSON.parse(result.cause ?? '{}')).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds$/),
    });
  });

  it('runs a Task without TimeoutSeconds to completion', async () => {
    const result = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: `${MACHINE_ARN}C`, input: '{}' }));
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}')).toMatchObject({ StatusCode: 200, Payload: { slept: 10 } });
  });

  it("gives a Task without TimeoutSeconds AWS's unbounded budget instead of the library's 60 s", () => {
    const prepared = withAwsTaskTimeouts(
      JSON.parse(definition(arnOf('SlowFunction'), undefined, 10)) as Parameters<typeof withAwsTaskTimeouts>[0],
    );
    const explicit = withAwsTaskTimeouts(
      JSON.parse(definition(arnOf('SlowFunction'), 7, 10)) as Parameters<typeof withAwsTaskTimeouts>[0],
    );
    const timeoutOf = (machine: typeof prepared) =>
      (machine.States.Invoke as { TimeoutSeconds?: number }).TimeoutSeconds;
    // The longest a Node timer can wait (24.8 days): the library turns the budget into one.
    expect(timeoutOf(prepared)).toBe(2_147_483);
    expect(timeoutOf(explicit)).toBe(7);
  });
});
