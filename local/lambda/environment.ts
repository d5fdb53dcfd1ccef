import type { LocalCredentials } from '../iam/credentials.js';
import type { LocalFunction } from '../stack-model.js';

/** The local stand-ins' endpoints, as the functions reach them through AWS_ENDPOINT_URL_*. */
export interface LocalEndpoints {
  dynamoDb: string;
  dynamoDbStreams?: string;
  eventBridge: string;
  stepFunctions: string;
  /** The WebSocket API's @connections endpoint (the stage URL). */
  managementApi: string;
  sqs?: string;
  /** The local S3 (path-style: its endpoint is an IP address, so the SDK puts the bucket in the path). */
  s3?: string;
  /** The Lambda Invoke API (the moderation hook's calls). */
  lambda?: string;
}

/** The local token issuer that stands in for Cognito, for functions that verify tokens. */
export interface LocalTokenIssuer {
  issuer: string;
  jwksUri: string;
  audience: string;
}

export interface EnvironmentInputs {
  region: string;
  credentials: LocalCredentials;
  endpoints: LocalEndpoints;
  /** The log stream of this execution environment. */
  logStreamName: string;
  /** The directory the bundle was built into: Lambda's /var/task. */
  taskRoot: string;
  /** Replacements for variables the function's template declares (validated by the caller). */
  overrides?: Record<string, string>;
  tokenIssuer?: LocalTokenIssuer;
}

/**
 * Variables the templates declare whose value is an endpoint: locally they get the local one,
 * for the functions that declare them and no other.
 */
const declaredEndpoints: Record<string, (endpoints: LocalEndpoints) => string> = {
  MANAGEMENT_API_ENDPOINT: (endpoints) => endpoints.managementApi,
};

/**
 * An execution environment's complete `process.env`, as Lambda builds it: the reserved runtime
 * variables, then the function's own template Environment, then the local endpoints
 * (AWS_ENDPOINT_URL_* and the template-declared endpoint variables). Nothing is inherited from
 * the process that runs the stack, so a variable the template does not give the function is
 * absent, as it is on AWS.
 */
export function functionEnvironment(fn: LocalFunction, inputs: EnvironmentInputs): Record<string, string> {
  const { endpoints } = inputs;
  const env: Record<string, string> = {
    AWS_REGION: inputs.region,
    AWS_DEFAULT_REGION: inputs.region,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: fn.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: inputs.logStreamName,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_ACCESS_KEY_ID: inputs.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: inputs.credentials.secretAccessKey,
    LAMBDA_TASK_ROOT: inputs.taskRoot,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    _HANDLER: fn.handler,
    ...fn.environment,
  };
  for (const [name, value] of Object.entries(declaredEndpoints)) {
    if (name in fn.environment) env[name] = value(endpoints);
  }
  if (inputs.tokenIssuer && 'USER_POOL_ID' in fn.environment) {
    // The local issuer replaces Cognito for the functions that verify Cognito's tokens.
    env.JWT_ISSUER = inputs.tokenIssuer.issuer;
    env.JWT_JWKS_URI = inputs.tokenIssuer.jwksUri;
    env.JWT_AUDIENCE = inputs.tokenIssuer.audience;
  }
  Object.assign(env, inputs.overrides);
  Object.assign(env, {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamoDb,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamoDbStreams ?? endpoints.dynamoDb,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridge,
    AWS_ENDPOINT_URL_SFN: endpoints.stepFunctions,
    AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: endpoints.managementApi,
    ...(endpoints.sqs ? { AWS_ENDPOINT_URL_SQS: endpoints.sqs } : {}),
    ...(endpoints.s3 ? { AWS_ENDPOINT_URL_S3: endpoints.s3 } : {}),
    ...(endpoints.lambda ? { AWS_ENDPOINT_URL_LAMBDA: endpoints.lambda } : {}),
  });
  // Lambda runs nodejs22.x; on an older local Node the SDK warns about the Node version once per
  // environment, which Lambda's runtime never would. This keeps that noise out of the stack's log.
  if (Number(process.versions.node.split('.')[0]) < 22) env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  return env;
}

/** Throws unless every override names a variable the function's template declares. */
export function checkOverrides(fn: LocalFunction, overrides: Record<string, string>): void {
  const undeclared = Object.keys(overrides).filter((name) => !(name in fn.environment));
  if (undeclared.length > 0) {
    throw new Error(
      `${fn.logicalId} does not declare ${undeclared.join(', ')} in its template Environment; only declared variables can be overridden`,
    );
  }
}
