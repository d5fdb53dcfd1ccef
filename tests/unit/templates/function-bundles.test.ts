import { beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, type FunctionBundle, functionBuilds } from '../../../bench/lib/function-bundles.js';
import { REPO_ROOT } from '../../helpers/cfn-template.js';

/**
 * Each function is bundled as SAM's esbuild workflow would bundle it from its template's
 * BuildProperties: this proves the #core/#aws/#db subpath imports resolve for esbuild, and that
 * each composition root hands a function only the adapters it uses.
 */
let bundles: Map<string, FunctionBundle>;

beforeAll(async () => {
  const builds = await functionBuilds(REPO_ROOT, ['api/template.yaml', 'workflows/template.yaml']);
  bundles = new Map();
  for (const fn of builds) bundles.set(fn.logicalId, await bundleFunction(REPO_ROOT, fn));
}, 120_000);

const sdkClientsIn = (logicalId: string) => {
  const bundle = bundles.get(logicalId);
  if (!bundle) throw new Error(`no function ${logicalId}`);
  const clients = bundle.inputs.flatMap((input) => /node_modules\/@aws-sdk\/(client-[^/]+)\//.exec(input)?.[1] ?? []);
  return [...new Set(clients)].sort();
};

describe('function bundles', () => {
  it('builds every function of the api and workflows templates', () => {
    expect([...bundles.keys()].sort()).toEqual([
      'AuthorizerFunction',
      'ConnectFunction',
      'DisconnectFunction',
      'MessagesStreamFunction',
      'MetricsStreamFunction',
      'ModerationExampleFunction',
      'PostToConnectionsFunction',
      'RestApiFunction',
      'SessionStartFunction',
      'WebSocketActionsFunction',
    ]);
    for (const bundle of bundles.values()) expect(bundle.bytes).toBeGreaterThan(0);
  });

  it('gives each function only the AWS clients its use cases reach', () => {
    expect(sdkClientsIn('AuthorizerFunction')).toEqual([]);
    for (const api of ['ConnectFunction', 'DisconnectFunction']) {
      expect(sdkClientsIn(api), api).toEqual(['client-dynamodb', 'client-eventbridge']);
    }
    // GET /attachments/{id} presigns downloads.
    // POST /message asks the moderation hook (a Lambda Invoke); the example hook itself calls nothing.
    expect(sdkClientsIn('RestApiFunction')).toEqual([
      'client-dynamodb',
      'client-eventbridge',
      'client-lambda',
      'client-s3',
    ]);
    expect(sdkClientsIn('ModerationExampleFunction')).toEqual([]);
    expect(sdkClientsIn('MessagesStreamFunction')).toEqual(['client-dynamodb', 'client-eventbridge']);
    // WebSocketActionsFunction posts small rooms' messages itself (sendMessage's direct path).
    // ...and presigns attachment uploads and downloads, and copies attached files, and asks the moderation hook.
    expect(sdkClientsIn('WebSocketActionsFunction')).toEqual([
      'client-apigatewaymanagementapi',
      'client-dynamodb',
      'client-eventbridge',
      'client-lambda',
      'client-s3',
    ]);
    for (const poster of ['PostToConnectionsFunction', 'SessionStartFunction', 'MetricsStreamFunction']) {
      expect(sdkClientsIn(poster), poster).toEqual([
        'client-apigatewaymanagementapi',
        'client-dynamodb',
        'client-eventbridge',
      ]);
    }
  });

  it('keeps the local stack and the tests out of every bundle', () => {
    for (const bundle of bundles.values()) {
      expect(bundle.inputs.filter((input) => /^(local|tests|bench)\//.test(input))).toEqual([]);
    }
  });
});
