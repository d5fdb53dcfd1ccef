import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from './free-port.js';
import { checkPrerequisites, MissingPrerequisiteError } from './prerequisites.js';
import {
  type InvokeTarget,
  invokeTarget,
  invokeTargets,
  loadSampleEventManifest,
  openConnectionFor,
  readSampleEvent,
  resolveInvokeTarget,
  type SampleEventManifest,
  sampleEventsDir,
  UnknownInvokeTargetError,
} from './sample-events.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalStack, repoRoot, startLocalStack } from './stack.js';
import { loadLocalStackModel } from './stack-model.js';

const USAGE = `npm run -s invoke -- <function> [event.json] [options]

Runs one function (or the distribution state machine) of the templates on a throwaway local stack
(DynamoDB Local, EventBridge, Step Functions and API Gateway stand-ins, on free ports) with the
event from the file, and prints the handler's JSON result on stdout. Logs go to stderr.

  <function>     ConnectFunction, Api/ConnectFunction (SAM CLI style), the function's name or ARN;
                 MessageDistributionStateMachine runs the state machine (StartSyncExecution)
  [event.json]   defaults to the function's first sample event in events/manifest.json

  --data-dir <path>  keep DynamoDB data there, so several invokes can build on each other
  --skip-connect     do not run $connect before a WebSocket message or $disconnect event (see below)
  --verbose          INFO logs from the handlers and the stand-ins' activity (on stderr)
  --list             list the functions and their sample events
  --help

API Gateway routes messages only from connections that completed $connect, so before such an event
the $connect route runs first with the event's connectionId and authorizer context, opened now.

Exit status: 0 when the handler returned, 1 when it threw (name and message on stderr), 2 on bad usage.
Example: npm run -s invoke -- Api/WebSocketActionsFunction events/websocket-send-message.json | jq .body`;

/** Bad arguments: exit 2 with the reason, before anything starts. */
class UsageError extends Error {
  override name = 'UsageError';
}

// Handlers log JSON to stdout through Powertools; stdout carries only the result, like sam local invoke.
const writeResult = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** npm runs scripts from the package root; a relative path means the caller's directory (INIT_CWD). */
function eventPath(arg: string): string {
  const candidates = isAbsolute(arg)
    ? [arg]
    : [resolve(process.env.INIT_CWD ?? process.cwd(), arg), resolve(process.cwd(), arg), resolve(sampleEventsDir, arg)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new UsageError(`Event file not found: ${arg}`);
  return found;
}

function defaultEvent(target: InvokeTarget, manifest: SampleEventManifest): string {
  const file = manifest[target.logicalId]?.[0];
  if (!file) throw new UsageError(`${target.path} has no sample event in events/manifest.json; pass an event file`);
  return resolve(sampleEventsDir, file);
}

function listTargets(targets: InvokeTarget[], manifest: SampleEventManifest): string {
  return targets
    .map((target) => {
      const files = (manifest[target.logicalId] ?? []).map((file) => `events/${file}`);
      return `${target.path}\n${files.map((file) => `    ${file}`).join('\n') || '    (no sample event)'}`;
    })
    .join('\n');
}

/** What the invocation set off (events, executions, other functions), so the log explains the result. */
function downstream(
  stack: LocalStack,
  before: { invocations: Record<string, number>; executions: number },
  target: InvokeTarget,
): string {
  const after = stack.functions.invocations();
  const parts: string[] = [];
  for (const [name, count] of Object.entries(after)) {
    const extra =
      count - (before.invocations[name] ?? 0) - (target.kind === 'function' && name === target.fn.name ? 1 : 0);
    if (extra > 0) parts.push(`${name} x${extra}`);
  }
  const executions = stack.stepFunctions.executions().slice(before.executions);
  if (executions.length > 0) {
    const byStatus = new Map<string, number>();
    for (const execution of executions) byStatus.set(execution.status, (byStatus.get(execution.status) ?? 0) + 1);
    parts.push(`executions: ${[...byStatus].map(([status, count]) => `${count} ${status}`).join(', ')}`);
  }
  return parts.join('; ');
}

async function settle(stack: LocalStack, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), timeoutMs);
  });
  try {
    return await Promise.race([stack.idle().then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function exit(code: number, result?: unknown): never {
  if (result !== undefined) writeResult(`${JSON.stringify(result ?? null, null, 2)}\n`);
  process.exit(code);
}

function parseFlags() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        verbose: { type: 'boolean', default: false },
        'skip-connect': { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
}

async function main(): Promise<number> {
  const { values: flags, positionals } = parseFlags();
  if (flags.help) {
    console.error(USAGE);
    return 0;
  }

  // The model is read first (it is only YAML) so a typo fails before DynamoDB Local's JVM starts.
  const model = await loadLocalStackModel({
    templatePath: resolve(repoRoot, 'template.yaml'),
    stackName: 'switchboard',
    parameters: { AuthMode: 'none' },
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT,
  });
  const manifest = await loadSampleEventManifest();
  if (flags.list) {
    console.error(listTargets(invokeTargets(model), manifest));
    return 0;
  }
  const [id, file, ...rest] = positionals;
  if (!id || rest.length > 0) throw new UsageError(`expected <function> [event.json]\n\n${USAGE}`);
  const target = resolveInvokeTarget(model, id);
  const path = file ? eventPath(file) : defaultEvent(target, manifest);
  let event: unknown;
  try {
    event = await readSampleEvent(path);
  } catch (error) {
    throw new UsageError(`${relative(process.cwd(), path)} is not JSON: ${(error as Error).message}`);
  }

  checkPrerequisites();
  const stack = await startLocalStack({
    restPort: 0,
    webSocketPort: 0,
    eventBridgePort: 0,
    stepFunctionsPort: 0,
    dynamoDbPort: await freePort(),
    ...(flags['data-dir'] ? { dataDir: flags['data-dir'] } : {}),
    // The template's LogLevel parameter sets each function's POWERTOOLS_LOG_LEVEL, as on AWS.
    parameters: { LogLevel: flags.verbose ? 'INFO' : 'WARN' },
    ...(flags.verbose
      ? { log: (message: string, extra?: object) => console.error(`[local] ${message}`, extra ?? '') }
      : {}),
  });
  const stop = () => {
    console.error('interrupted: stopping the local stack');
    void stack.close().finally(() => exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  let outcome: { code: number; result?: unknown };
  const snapshot = () => ({
    invocations: stack.functions.invocations(),
    executions: stack.stepFunctions.executions().length,
  });
  let before = snapshot();
  try {
    const opened = flags['skip-connect'] ? undefined : await openConnectionFor(stack, event);
    if (opened) console.error(`opened connection ${opened} first ($connect), as API Gateway would have`);
    before = snapshot();
    console.error(`invoking ${target.path} with ${relative(process.cwd(), path)}`);
    outcome = { code: 0, result: (await invokeTarget(stack, target, event)) ?? null };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    console.error(`${name}: ${message}`);
    outcome = { code: 1 };
  }
  // Whatever the call published or started runs to completion before the stand-ins go away.
  if (!(await settle(stack, 30_000))) console.error('downstream work still running after 30 s; stopping anyway');
  const summary = downstream(stack, before, target);
  if (summary) console.error(`downstream: ${summary}`);
  await stack.close();
  exit(outcome.code, outcome.result);
}

main().then(
  (code) => exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof UnknownInvokeTargetError) {
      console.error(error.message);
      exit(2);
    }
    if (error instanceof MissingPrerequisiteError) {
      console.error(`Cannot start the local stack: ${error.message}`);
      exit(1);
    }
    console.error(error);
    exit(1);
  },
);
