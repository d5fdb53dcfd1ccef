import type { IncomingHttpHeaders } from 'node:http';
import { AwsServiceError } from '../aws-protocol.js';
import { accessKeyIdOf, OPERATOR_ROLE, roleForAccessKeyId } from './credentials.js';
import {
  type AuthorizationRequest,
  type Decision,
  denialMessage,
  evaluate,
  type PolicyValue,
  type Principal,
  UnsupportedConditionError,
} from './policy.js';
import type { LocalIamModel } from './roles.js';

export type IamMode = 'enforce' | 'off';

/** How a service spells its errors: AccessDeniedException and friends differ only in these details. */
export interface ServiceErrorShape {
  /** HTTP status of a denial (400 for the JSON-protocol services, 403 for API Gateway). */
  status: number;
  /** `com.amazon.coral.service#` for services whose `__type` carries it. */
  typePrefix?: string;
  messageKey?: 'message' | 'Message';
}

export const ERROR_SHAPES = {
  dynamodb: { status: 400, typePrefix: 'com.amazon.coral.service#', messageKey: 'Message' },
  events: { status: 400, messageKey: 'Message' },
  states: { status: 400, typePrefix: 'com.amazon.coral.service#', messageKey: 'message' },
  sqs: { status: 400, typePrefix: 'com.amazon.coral.service#', messageKey: 'message' },
  'execute-api': { status: 403, messageKey: 'Message' },
  // S3 answers in XML (local/s3/errors.ts); only the status is read from here.
  s3: { status: 403, messageKey: 'Message' },
  lambda: { status: 403, messageKey: 'Message' },
} as const satisfies Record<string, ServiceErrorShape>;

/** One thing a request needs: an action on a resource (several for a transaction or a batch). */
export interface RequiredPermission {
  action: string;
  resource: string;
  context?: Record<string, PolicyValue>;
}

/** Requests per role (the session's role, or the service principal) and operation, e.g. `dynamodb:Query`. */
export type RequestCounts = Record<string, Record<string, number>>;

export interface LocalIamOptions {
  model: LocalIamModel;
  mode: IamMode;
  accountId: string;
  log?: (message: string, extra?: object) => void;
}

/**
 * IAM at the local endpoints: maps a request's SigV4 access key to the role it was issued for,
 * evaluates that role's policies (and the resource's policy) for each permission the request needs,
 * and refuses with AWS's error and message. Every request is counted per role and operation, which is
 * what the benchmarks read. With mode `off` nothing is refused, but requests are still counted.
 */
export class LocalIam {
  readonly mode: IamMode;
  readonly model: LocalIamModel;
  private readonly accountId: string;
  private readonly log: (message: string, extra?: object) => void;
  private counts: RequestCounts = {};
  private denials = 0;

  constructor(options: LocalIamOptions) {
    this.mode = options.mode;
    this.model = options.model;
    this.accountId = options.accountId;
    this.log = options.log ?? (() => {});
  }

  /** The principal of a role's session (the operator included). */
  rolePrincipal(roleName: string, session = roleName): Principal {
    const role = this.model.roles.get(roleName);
    return {
      kind: 'role',
      roleName,
      roleArn: role?.arn ?? `arn:aws:iam::${this.accountId}:role/${roleName}`,
      sessionArn: role?.sessionArn ?? `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${session}`,
    };
  }

  /**
   * The principal a request is signed for. An unsigned request, or one signed with a key no local
   * role issued, is refused as AWS refuses it (only while enforcing; otherwise it counts as `anonymous`).
   */
  principalOf(headers: IncomingHttpHeaders, shape: ServiceErrorShape): Principal {
    const authorization = headers.authorization;
    const accessKeyId = accessKeyIdOf(Array.isArray(authorization) ? authorization[0] : authorization);
    const roleName = accessKeyId === undefined ? undefined : roleForAccessKeyId(accessKeyId);
    if (roleName !== undefined && (roleName === OPERATOR_ROLE || this.model.roles.has(roleName))) {
      return this.rolePrincipal(roleName);
    }
    if (this.mode === 'off') return this.rolePrincipal('anonymous');
    const status = shape.status === 403 ? 403 : 400;
    if (accessKeyId === undefined) {
      this.logDenial('request without SigV4 credentials refused', {});
      throw new AwsServiceError(
        'MissingAuthenticationTokenException',
        status === 403 ? 'Missing Authentication Token' : 'Request is missing Authentication Token',
        status,
        { typePrefix: shape.typePrefix, messageKey: shape.messageKey },
      );
    }
    this.logDenial('request signed with an unknown access key refused', { accessKeyId });
    throw new AwsServiceError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      status,
      { typePrefix: shape.typePrefix, messageKey: shape.messageKey },
    );
  }

  /** Counts one request of `operation` (e.g. `dynamodb:TransactWriteItems`) by `principal`. */
  count(principal: Principal, operation: string): void {
    const who = principal.kind === 'role' ? principal.roleName : principal.service;
    const perRole = this.counts[who] ?? {};
    perRole[operation] = (perRole[operation] ?? 0) + 1;
    this.counts[who] = perRole;
  }

  /**
   * Checks every permission a request needs; the first one refused throws AccessDeniedException in the
   * service's shape. The operator role is allowed everything.
   */
  authorize(principal: Principal, required: readonly RequiredPermission[], shape: ServiceErrorShape): void {
    if (this.mode === 'off') return;
    if (principal.kind === 'role' && principal.roleName === OPERATOR_ROLE) return;
    for (const permission of required) {
      const request: AuthorizationRequest = {
        principal,
        action: permission.action,
        resource: permission.resource,
        context: { 'aws:SecureTransport': 'true', 'aws:PrincipalAccount': this.accountId, ...permission.context },
      };
      const decision = this.decide(request);
      if (decision.allowed) continue;
      // A service principal has no identity policy: only a resource policy could have allowed it.
      const message = denialMessage(request, decision, principal.kind === 'service');
      this.logDenial(`iam: denied ${request.action} on ${request.resource}`, {
        principal: principal.kind === 'role' ? principal.roleName : principal.service,
        reason: decision.reason,
      });
      throw new AwsServiceError('AccessDeniedException', message, shape.status, {
        typePrefix: shape.typePrefix,
        messageKey: shape.messageKey,
      });
    }
  }

  /**
   * Lambda's check before an invoke: a role needs lambda:InvokeFunction in its policies (or the
   * function's policy); a service (API Gateway, EventBridge) needs a Lambda::Permission naming it,
   * whose SourceArn condition `sourceArn` must satisfy.
   */
  authorizeInvoke(caller: Principal, functionArn: string, sourceArn?: string): void {
    this.count(caller, 'lambda:Invoke');
    this.authorize(
      caller,
      [
        {
          action: 'lambda:InvokeFunction',
          resource: functionArn,
          context: {
            ...(sourceArn ? { 'aws:SourceArn': sourceArn } : {}),
            'aws:SourceAccount': this.accountId,
          },
        },
      ],
      ERROR_SHAPES.lambda,
    );
  }

  /** A copy of the request counts since the last reset. */
  requests(): RequestCounts {
    return structuredClone(this.counts);
  }

  resetRequests(): void {
    this.counts = {};
  }

  /** How many requests were refused since start. */
  deniedCount(): number {
    return this.denials;
  }

  private decide(request: AuthorizationRequest): Decision {
    const identity =
      request.principal.kind === 'role' ? (this.model.roles.get(request.principal.roleName)?.policies ?? []) : [];
    const resource = this.resourcePoliciesFor(request.resource);
    try {
      return evaluate(request, identity, resource);
    } catch (error) {
      if (!(error instanceof UnsupportedConditionError)) throw error;
      // Fail closed: a policy we cannot read allows nothing.
      this.log(`iam: ${error.message}; refusing ${request.action} on ${request.resource}`);
      return { allowed: false, reason: 'no-allow' };
    }
  }

  /**
   * A function's policy also covers its versions and aliases (`function:NAME:QUALIFIER`); a bucket's
   * policy covers its objects (`arn:aws:s3:::BUCKET/KEY`).
   */
  private resourcePoliciesFor(resource: string) {
    const direct = this.model.resourcePolicies.get(resource);
    if (direct) return direct;
    const object = /^(arn:aws:s3:::[^/]+)\//.exec(resource);
    if (object?.[1]) return this.model.resourcePolicies.get(object[1]) ?? [];
    const qualified = /^(arn:aws:lambda:[^:]+:[^:]+:function:[^:]+):[^:]+$/.exec(resource);
    return qualified?.[1] ? (this.model.resourcePolicies.get(qualified[1]) ?? []) : [];
  }

  private logDenial(message: string, extra: object): void {
    this.denials++;
    this.log(message, extra);
  }
}
