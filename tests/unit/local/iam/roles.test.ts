import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCfnStack } from '../../../../local/cfn/stack.js';
import { buildIamModel, UnsupportedSamFeatureError } from '../../../../local/iam/roles.js';

/** Role generation on small templates, for the SAM rules the project's own templates do not all exercise. */

const env = { region: 'us-east-1', accountId: '000000000000' };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iam-roles-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function modelOf(resources: string) {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    path,
    `Transform: AWS::Serverless-2016-10-31
Parameters:
  Tracing:
    Type: String
    Default: Disabled
Resources:
${resources}`,
  );
  const stack = await LocalCfnStack.load(path, { name: 'test', env });
  return buildIamModel(stack, env);
}

describe('buildIamModel', () => {
  it('gives a function the basic role, X-Ray unless Tracing is the literal Disabled, and its inline statements', async () => {
    const model = await modelOf(`  Plain:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:GetItem
              Resource: !Sub arn:aws:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/T
  Traced:
    Type: AWS::Serverless::Function
    Properties:
      Tracing: Active
  Untraced:
    Type: AWS::Serverless::Function
    Properties:
      Tracing: Disabled
  ByParameter:
    Type: AWS::Serverless::Function
    Properties:
      Tracing: !Ref Tracing
`);
    const plain = model.roles.get('Plain-role');
    expect(plain?.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
    expect(plain?.inlinePolicies[0]?.Statement).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/T' },
    ]);
    expect(plain?.sessionArn).toBe('arn:aws:sts::000000000000:assumed-role/Plain-role/Plain');
    expect(model.roles.get('Traced-role')?.managedPolicyArns).toContain(
      'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess',
    );
    expect(model.roles.get('Untraced-role')?.managedPolicyArns).not.toContain(
      'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess',
    );
    // SAM resolves a Ref to a parameter (default Disabled here) before its literal check.
    expect(model.roles.get('ByParameter-role')?.managedPolicyArns).not.toContain(
      'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess',
    );
    // The managed policies' vendored contents apply.
    expect(plain?.policies.at(-1)?.Statement).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
    ]);
  });

  it('adds stream reading for DynamoDB events and sqs:SendMessage for SQS destinations', async () => {
    const model = await modelOf(`  Queue:
    Type: AWS::SQS::Queue
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      EventInvokeConfig:
        DestinationConfig:
          OnFailure:
            Type: SQS
            Destination: !GetAtt Queue.Arn
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/x
            StartingPosition: LATEST
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt Queue.Arn
`);
    const role = model.roles.get('Consumer-role');
    expect(role?.managedPolicyArns).toContain('arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole');
    const sends = role?.inlinePolicies.flatMap((policy) => policy.Statement);
    expect(sends).toEqual([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:000000000000:Queue' },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:000000000000:Queue' },
    ]);
  });

  it('gives an EventBridge rule on a function a Lambda permission, and one on a state machine its own role', async () => {
    const model = await modelOf(`  Target:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        OnEvent:
          Type: EventBridgeRule
          Properties:
            EventBusName: bus
            Pattern: { source: [x] }
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {}
      Events:
        OnEvent:
          Type: EventBridgeRule
          Properties:
            Pattern: { source: [x] }
`);
    const permission = model.resourcePolicies.get('arn:aws:lambda:us-east-1:000000000000:function:Target');
    expect(permission?.[0]?.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'lambda:InvokeFunction',
        Resource: 'arn:aws:lambda:us-east-1:000000000000:function:Target',
        Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/bus/TargetOnEvent' } },
      },
    ]);
    const targetRole = model.ruleTargetRoles.get('MachineOnEvent');
    expect(targetRole && model.roles.get(targetRole)?.inlinePolicies[0]?.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: 'arn:aws:states:us-east-1:000000000000:stateMachine:Machine',
      },
    ]);
  });

  it('fails loudly on a SAM policy template, naming it', async () => {
    await expect(
      modelOf(`  Reader:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - DynamoDBReadPolicy:
            TableName: T
`),
    ).rejects.toThrow(
      new UnsupportedSamFeatureError(
        'Reader: SAM policy template DynamoDBReadPolicy is not supported locally; write the statements inline',
      ),
    );
  });
});
