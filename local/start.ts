import { parseArgs } from 'node:util';
import { startTokenIssuer } from './auth/token-issuer.js';
import { ParameterOverrideError, parseParameterOverrides } from './cfn/parameters.js';
import { operatorCredentials } from './dynamodb.js';
import { startFrontServer } from './front-server.js';
import { latencyFlags, latencyHelp, latencySettingsOf } from './latency/cli.js';
import { LatencyOptionError } from './latency/model.js';
import { checkPrerequisites, MissingPrerequisiteError } from './prerequisites.js';
import { startLocalStack } from './stack.js';

const { values: flags } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.SWITCHBOARD_HOST ?? '127.0.0.1' },
    'rest-port': { type: 'string', default: process.env.SWITCHBOARD_REST_PORT ?? '3000' },
    'ws-port': { type: 'string', default: process.env.SWITCHBOARD_WS_PORT ?? '3001' },
    'dynamodb-port': { type: 'string', default: process.env.SWITCHBOARD_DYNAMODB_PORT ?? '8000' },
    'front-port': { type: 'string', default: process.env.SWITCHBOARD_FRONT_PORT ?? '8080' },
    auth: { type: 'string', default: process.env.SWITCHBOARD_AUTH ?? 'none' },
    'issuer-port': { type: 'string', default: process.env.SWITCHBOARD_ISSUER_PORT ?? '3002' },
    'data-dir': { type: 'string', default: process.env.SWITCHBOARD_DATA_DIR },
    iam: { type: 'string', default: process.env.SWITCHBOARD_IAM ?? 'enforce' },
    verbose: { type: 'boolean', default: false },
    // Template parameter overrides, as `sam deploy --parameter-overrides` takes them (repeatable).
    parameter: { type: 'string', multiple: true, default: [] },
    ...latencyFlags,
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log(`npm start -- [options]
  --host <ip>            bind address (default 127.0.0.1)            SWITCHBOARD_HOST
  --rest-port <n>        HTTP API (default 3000)                      SWITCHBOARD_REST_PORT
  --ws-port <n>          WebSocket + @connections (default 3001)      SWITCHBOARD_WS_PORT
  --dynamodb-port <n>    DynamoDB (IAM front; default 8000)           SWITCHBOARD_DYNAMODB_PORT
  --front-port <n>       browser chat app (default 8080)              SWITCHBOARD_FRONT_PORT
  --auth none|local-jwt  demo identities (?userId=) or JWTs from a    SWITCHBOARD_AUTH
                         local issuer, verified like Cognito's
  --issuer-port <n>      local token issuer (default 3002)            SWITCHBOARD_ISSUER_PORT
  --data-dir <path>      keep DynamoDB data across restarts           SWITCHBOARD_DATA_DIR
  --parameter Key=Value  override a template parameter, as sam deploy
                         --parameter-overrides does (repeatable), e.g.
                         --parameter Tracing=Active --parameter PostBatchSize=25
  --iam enforce|off      check every AWS call against the templates'  SWITCHBOARD_IAM
                         IAM roles, as AWS does (default enforce)
${latencyHelp}
  --verbose              log the stand-ins' activity, and every call IAM refused`);
  process.exit(0);
}

try {
  checkPrerequisites();
} catch (error) {
  if (error instanceof MissingPrerequisiteError) {
    console.error(`Cannot start: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

// The SDK nags on Node 20 (Lambda itself runs 22); the local stack runs on both.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Handlers log JSON through Powertools; keep the console readable unless asked otherwise. The
// template's LogLevel parameter reaches each function as its POWERTOOLS_LOG_LEVEL.
const functionLogLevel = process.env.POWERTOOLS_LOG_LEVEL ?? (flags.verbose ? 'INFO' : 'WARN');

if (flags.auth !== 'none' && flags.auth !== 'local-jwt') {
  console.error(`Cannot start: --auth must be none or local-jwt, not ${flags.auth}`);
  process.exit(1);
}
let parameterOverrides: Record<string, string>;
try {
  parameterOverrides = parseParameterOverrides(flags.parameter ?? []);
} catch (error) {
  if (!(error instanceof ParameterOverrideError)) throw error;
  console.error(`Cannot start: ${error.message}`);
  process.exit(1);
}
let latency: ReturnType<typeof latencySettingsOf>;
try {
  latency = latencySettingsOf(flags);
} catch (error) {
  if (!(error instanceof LatencyOptionError)) throw error;
  console.error(`Cannot start: ${error.message}`);
  process.exit(1);
}
if (flags.iam !== 'enforce' && flags.iam !== 'off') {
  console.error(`Cannot start: --iam must be enforce or off, not ${flags.iam}`);
  process.exit(1);
}
// The issuer is always on loopback: the verifier fetches plain-http JWKS from loopback only.
const issuer =
  flags.auth === 'local-jwt'
    ? await startTokenIssuer({ host: '127.0.0.1', port: Number(flags['issuer-port']) })
    : undefined;

const stack = await startLocalStack({
  host: flags.host,
  // LogLevel first, so a --parameter LogLevel=... still wins; --auth local-jwt means Cognito-style JWTs.
  parameters: { LogLevel: functionLogLevel, ...parameterOverrides, ...(issuer ? { AuthMode: 'cognito' } : {}) },
  restPort: Number(flags['rest-port']),
  webSocketPort: Number(flags['ws-port']),
  dynamoDbPort: Number(flags['dynamodb-port']),
  dataDir: flags['data-dir'],
  iam: flags.iam,
  ...latency,
  ...(issuer ? { tokenIssuer: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience } } : {}),
  log: flags.verbose ? (message, extra) => console.log(`[local] ${message}`, extra ?? '') : undefined,
}).catch(async (error: unknown) => {
  // A mistyped --parameter is the user's to fix: say so plainly, as sam deploy does.
  if (!(error instanceof ParameterOverrideError)) throw error;
  console.error(`Cannot start: ${error.message}`);
  await issuer?.close();
  process.exit(1);
});

const front = await startFrontServer({
  host: flags.host,
  port: Number(flags['front-port']),
  config: issuer
    ? {
        webSocketUrl: stack.urls.webSocket,
        restUrl: stack.urls.rest,
        authMode: 'cognito',
        cognito: {
          userPoolId: 'us-east-1_local',
          clientId: issuer.audience,
          region: 'us-east-1',
          endpoint: `${issuer.url}/`,
        },
        attachmentsUrl: stack.urls.s3,
      }
    : { webSocketUrl: stack.urls.webSocket, restUrl: stack.urls.rest, authMode: 'none', attachmentsUrl: stack.urls.s3 },
});

const authHint = issuer
  ? `Auth: local JWTs (verified like Cognito's). Get one: curl -s -XPOST ${issuer.url}/token -d '{"username":"alice"}'
  then connect with ?token=<token>; REST takes Authorization: Bearer <token>.`
  : 'Auth: demo mode, identity = ?userId= (REST: x-user-id). For JWTs like a deployed stack: npm start -- --auth local-jwt';
console.log(`Switchboard local stack
  Chat app         ${front.url}
  WebSocket        ${stack.urls.webSocket}?userId=alice&room=general
  @connections     ${stack.urls.management}/@connections/{connectionId}
  REST (history)   ${stack.urls.rest}
  DynamoDB         ${stack.urls.dynamoDb}
  EventBridge      ${stack.urls.eventBridge}
  Step Functions   ${stack.urls.stepFunctions}
  SQS              ${stack.urls.sqs}
  Latency          ${latency.latency === 'aws' ? `AWS per-hop delays (seed ${latency.latencySeed}, cold starts ${latency.coldStartRate})` : 'none added (--latency aws models AWS hops)'}
  S3 (attachments) ${stack.urls.s3} (objects in memory)
  IAM              ${stack.iam.mode === 'enforce' ? 'enforced' : 'off'}; operator keys: AWS_ACCESS_KEY_ID=${operatorCredentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${operatorCredentials.secretAccessKey}
  Tables           ${Object.values(stack.tableNames).join(', ')}
  Data             ${flags['data-dir'] ?? 'in memory (use --data-dir to keep it)'}
${authHint}
Try: npx wscat -c "${stack.urls.webSocket}?userId=alice"  then  {"action":"sendMessage","room":"general","message":"Hello!"}
ready`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping...`);
  await front.close();
  await stack.close();
  await issuer?.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
