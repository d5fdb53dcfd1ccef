import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../local/stack.js';

const run = promisify(execFile);

const outputs = {
  WebSocketUrl: 'wss://abc123.execute-api.eu-west-1.amazonaws.com/prod',
  RestApiUrl: 'https://def456.execute-api.eu-west-1.amazonaws.com',
  UserPoolId: 'eu-west-1_AbCdEf',
  UserPoolClientId: 'client123',
  FrontendBucketName: 'switchboard-front-bucket',
  FrontendDistributionId: 'E2EXAMPLE',
  FrontendUrl: 'https://d111.cloudfront.net',
};

/** A stand-in `aws` that records its arguments and answers describe-stacks from a file. */
const fakeAws = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$FAKE_AWS_LOG"
case "$1 $2" in
  "cloudformation describe-stacks") cat "$FAKE_AWS_STACK" ;;
  "cloudfront create-invalidation") echo I2EXAMPLE ;;
esac
`;

describe('front/deploy.sh', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'front-deploy-'));
    await writeFile(join(dir, 'aws'), fakeAws);
    await chmod(join(dir, 'aws'), 0o755);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(join(repoRoot, 'front', 'dist', 'config.json'), { force: true });
  });

  async function deploy(stackOutputs: Record<string, string>, authMode = 'cognito') {
    const log = join(dir, `calls-${Math.random().toString(36).slice(2)}.log`);
    const stack = join(dir, 'stack.json');
    await writeFile(
      stack,
      JSON.stringify({
        Stacks: [
          {
            Outputs: Object.entries(stackOutputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
            Parameters: [{ ParameterKey: 'AuthMode', ParameterValue: authMode }],
          },
        ],
      }),
    );
    const result = await run('bash', ['front/deploy.sh'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PATH: `${dir}:${process.env.PATH}`,
        STACK_NAME: 'chat-test',
        AWS_REGION: 'eu-west-1',
        FAKE_AWS_LOG: log,
        FAKE_AWS_STACK: stack,
      },
    }).catch((error: { code: number; stderr: string }) => ({ failed: error.code, stderr: error.stderr, stdout: '' }));
    const calls = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n');
    return { result, calls };
  }

  it('writes config.json from the stack outputs, uploads index.html last and invalidates it', async () => {
    const { result, calls } = await deploy(outputs);
    expect(result).not.toHaveProperty('failed');
    expect(calls[0]).toBe('cloudformation describe-stacks --stack-name chat-test --region eu-west-1 --output json');
    expect(calls[1]).toMatch(/^s3 sync front\/dist s3:\/\/switchboard-front-bucket\/ --region eu-west-1 .*immutable/);
    expect(calls[2]).toMatch(/^s3 cp front\/dist\/config.json s3:\/\/switchboard-front-bucket\/config.json .*no-cache/);
    expect(calls[3]).toMatch(/^s3 cp front\/dist\/index.html s3:\/\/switchboard-front-bucket\/index.html .*no-cache/);
    expect(calls[4]).toBe(
      'cloudfront create-invalidation --distribution-id E2EXAMPLE --paths / /index.html /config.json --query Invalidation.Id --output text',
    );
    const config = JSON.parse(await readFile(join(repoRoot, 'front', 'dist', 'config.json'), 'utf8'));
    expect(config).toEqual({
      webSocketUrl: outputs.WebSocketUrl,
      restUrl: outputs.RestApiUrl,
      authMode: 'cognito',
      cognito: { userPoolId: 'eu-west-1_AbCdEf', clientId: 'client123', region: 'eu-west-1' },
    });
  });

  it('stops before uploading when an output is missing', async () => {
    const { FrontendBucketName: _missing, ...partial } = outputs;
    const { result, calls } = await deploy(partial, 'none');
    expect(result).toHaveProperty('failed');
    expect((result as { stderr: string }).stderr).toContain('FrontendBucketName');
    expect(calls.some((call) => call.startsWith('s3 '))).toBe(false);
  });
});
