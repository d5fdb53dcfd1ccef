import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { describe, expect, it } from 'vitest';
import { loadTracer, untracedTracer } from '#aws/observability';
import { REPO_ROOT } from '../../../helpers/cfn-template.js';

const run = promisify(execFile);

/** Imports observability.ts in a fresh process and reports whether the X-Ray SDK hooked it. */
async function xrayNamespaceAfterImport(traceEnabled: string): Promise<boolean> {
  const script = `
    await import('./shared/src/aws/observability.ts');
    // cls-hooked registers the X-Ray SDK's namespace here when it installs its async hooks.
    console.log(JSON.stringify(Boolean(process.namespaces?.AWSXRay)));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      POWERTOOLS_TRACE_ENABLED: traceEnabled,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as boolean;
}

describe('loadTracer', () => {
  it('gives a pass-through tracer when POWERTOOLS_TRACE_ENABLED is false', async () => {
    const tracer = await loadTracer({ POWERTOOLS_TRACE_ENABLED: 'false' });
    expect(tracer).toBe(untracedTracer);
    const client = new ApiGatewayManagementApiClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1' });
    expect(tracer.captureAWSv3Client(client)).toBe(client);
    expect(tracer.isTracingEnabled()).toBe(false);
    expect(tracer.getSegment()).toBeUndefined();
  });

  it('loads the Powertools Tracer when tracing is on or unset', async () => {
    const { Tracer } = await import('@aws-lambda-powertools/tracer');
    expect(await loadTracer({ POWERTOOLS_TRACE_ENABLED: 'true' })).toBeInstanceOf(Tracer);
    expect(await loadTracer({})).toBeInstanceOf(Tracer);
  });

  it('keeps the X-Ray SDK and its async hooks out of the process only when tracing is off', async () => {
    const [off, on] = await Promise.all([xrayNamespaceAfterImport('false'), xrayNamespaceAfterImport('true')]);
    expect(off).toBe(false);
    expect(on).toBe(true);
  }, 60_000);
});
