/**
 * An IAM policy evaluator for the local stack, following AWS's evaluation logic for a principal and a
 * resource in the same account: an explicit Deny in any policy wins; otherwise an Allow in an
 * identity-based policy or in a resource-based policy that names the principal allows; otherwise the
 * request is implicitly denied. Action, NotAction, Resource, NotResource, Principal and the condition
 * operators our templates use are understood; an unknown condition operator throws (fail closed).
 */

export type PolicyValue = string | string[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: PolicyValue;
  NotAction?: PolicyValue;
  Resource?: PolicyValue;
  NotResource?: PolicyValue;
  Principal?: '*' | Record<string, PolicyValue>;
  NotPrincipal?: '*' | Record<string, PolicyValue>;
  Condition?: Record<string, Record<string, PolicyValue | boolean | number>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** Who makes a request: a role's session (identity policies apply) or an AWS service principal. */
export type Principal =
  | { kind: 'role'; roleName: string; roleArn: string; sessionArn: string }
  | { kind: 'service'; service: string };

export interface AuthorizationRequest {
  principal: Principal;
  /** `service:Operation`, e.g. `dynamodb:GetItem`. */
  action: string;
  resource: string;
  /** Condition keys of the request context (`aws:SourceArn`, `aws:SecureTransport`...), matched case-insensitively. */
  context?: Record<string, PolicyValue>;
}

export type Decision =
  | { allowed: true }
  | { allowed: false; reason: 'explicit-deny-identity' | 'explicit-deny-resource' | 'no-allow' };

/** A condition operator (or a set operator) this evaluator does not implement: the request is refused. */
export class UnsupportedConditionError extends Error {
  override name = 'UnsupportedConditionError';
}

const asList = (value: PolicyValue | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const patternCache = new Map<string, RegExp>();

/** IAM wildcards: `*` is any run of characters (`/` and `:` included), `?` is one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true;
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = patternCache.get(key);
  if (!regex) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    regex = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    patternCache.set(key, regex);
  }
  return regex.test(value);
}

/** Action names are case-insensitive (`dynamodb:getitem` is `dynamodb:GetItem`); resources are not. */
function actionMatches(statement: PolicyStatement, action: string): boolean {
  if (statement.Action !== undefined) return asList(statement.Action).some((p) => wildcardMatch(p, action, true));
  if (statement.NotAction !== undefined)
    return !asList(statement.NotAction).some((p) => wildcardMatch(p, action, true));
  return false;
}

function resourceMatches(statement: PolicyStatement, resource: string): boolean {
  if (statement.Resource !== undefined) return asList(statement.Resource).some((p) => wildcardMatch(p, resource));
  if (statement.NotResource !== undefined)
    return !asList(statement.NotResource).some((p) => wildcardMatch(p, resource));
  // A resource-based policy may leave Resource implicit only in services that attach it; ours always name it.
  return false;
}

function accountOf(principal: Principal): string | undefined {
  return principal.kind === 'role' ? principal.roleArn.split(':')[4] : undefined;
}

function principalEntryMatches(type: string, pattern: string, principal: Principal): boolean {
  if (type === 'Service') return principal.kind === 'service' && pattern === principal.service;
  if (type !== 'AWS' || principal.kind !== 'role') return false;
  if (pattern === '*') return true;
  const account = accountOf(principal);
  if (pattern === account || pattern === `arn:aws:iam::${account}:root`) return true;
  return pattern === principal.roleArn || pattern === principal.sessionArn;
}

function principalMatches(principalField: PolicyStatement['Principal'], principal: Principal): boolean {
  if (principalField === undefined) return false;
  if (principalField === '*') return true;
  return Object.entries(principalField).some(([type, values]) =>
    asList(values).some((value) => principalEntryMatches(type, value, principal)),
  );
}

function lookup(context: Record<string, PolicyValue> | undefined, key: string): string[] | undefined {
  if (!context) return undefined;
  const wanted = key.toLowerCase();
  for (const [name, value] of Object.entries(context)) {
    if (name.toLowerCase() === wanted) return asList(value);
  }
  return undefined;
}

type Comparer = (expected: string, actual: string) => boolean;

const POSITIVE: Record<string, Comparer> = {
  StringEquals: (e, a) => e === a,
  StringEqualsIgnoreCase: (e, a) => e.toLowerCase() === a.toLowerCase(),
  StringLike: (e, a) => wildcardMatch(e, a),
  // ArnEquals and ArnLike both take wildcards in every ARN segment.
  ArnEquals: (e, a) => wildcardMatch(e, a),
  ArnLike: (e, a) => wildcardMatch(e, a),
  Bool: (e, a) => e.toLowerCase() === a.toLowerCase(),
};

const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
};

function conditionHolds(operator: string, key: string, expected: string[], context: AuthorizationRequest['context']) {
  const actual = lookup(context, key);
  if (operator === 'Null') {
    const wantsMissing = expected.some((value) => value.toLowerCase() === 'true');
    return wantsMissing ? actual === undefined : actual !== undefined;
  }
  const ifExists = operator.endsWith('IfExists');
  const base = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
  const negatedOf = NEGATED[base];
  const compare = POSITIVE[negatedOf ?? base];
  // Checked before the key: an operator we cannot read must refuse even when the key is absent.
  if (!compare) throw new UnsupportedConditionError(`condition operator ${operator} is not supported locally`);
  if (actual === undefined) return ifExists || negatedOf !== undefined;
  const any = actual.some((value) => expected.some((pattern) => compare(pattern, value)));
  return negatedOf ? !any : any;
}

/** All operators must hold, and within one, all keys; a key holds when any of its values matches. */
function conditionsHold(statement: PolicyStatement, context: AuthorizationRequest['context']): boolean {
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    if (operator.includes(':')) {
      throw new UnsupportedConditionError(`condition set operator ${operator} is not supported locally`);
    }
    for (const [key, value] of Object.entries(keys)) {
      const expected = (Array.isArray(value) ? value : [value]).map(String);
      if (!conditionHolds(operator, key, expected, context)) return false;
    }
  }
  return true;
}

function statementsOf(document: PolicyDocument): PolicyStatement[] {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

function applies(statement: PolicyStatement, request: AuthorizationRequest, resourceBased: boolean): boolean {
  if (resourceBased) {
    if (statement.NotPrincipal !== undefined) {
      throw new UnsupportedConditionError('NotPrincipal is not supported locally');
    }
    if (!principalMatches(statement.Principal, request.principal)) return false;
  }
  return (
    actionMatches(statement, request.action) &&
    resourceMatches(statement, request.resource) &&
    conditionsHold(statement, request.context)
  );
}

/**
 * Decides one request. Identity policies count only for role principals (a service principal has
 * none here); resource policies count when one of their statements names the principal.
 * @throws UnsupportedConditionError when a relevant statement uses an operator this evaluator lacks.
 */
export function evaluate(
  request: AuthorizationRequest,
  identityPolicies: readonly PolicyDocument[],
  resourcePolicies: readonly PolicyDocument[] = [],
): Decision {
  const identity = request.principal.kind === 'role' ? identityPolicies.flatMap(statementsOf) : [];
  const resource = resourcePolicies.flatMap(statementsOf);
  let allowed = false;
  for (const statement of identity) {
    if (!applies(statement, request, false)) continue;
    if (statement.Effect === 'Deny') return { allowed: false, reason: 'explicit-deny-identity' };
    allowed = true;
  }
  for (const statement of resource) {
    if (!applies(statement, request, true)) continue;
    if (statement.Effect === 'Deny') return { allowed: false, reason: 'explicit-deny-resource' };
    allowed = true;
  }
  return allowed ? { allowed: true } : { allowed: false, reason: 'no-allow' };
}

/** The name IAM gives a principal in denial messages. */
export function principalArn(principal: Principal): string {
  return principal.kind === 'role' ? principal.sessionArn : principal.service;
}

/**
 * AWS's denial text, e.g. `User: arn:aws:sts::000000000000:assumed-role/R/S is not authorized to perform:
 * dynamodb:GetItem on resource: arn:... because no identity-based policy allows the dynamodb:GetItem action`.
 */
export function denialMessage(request: AuthorizationRequest, decision: Decision, resourceBased = false): string {
  const head = `User: ${principalArn(request.principal)} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
  if (decision.allowed) return head;
  switch (decision.reason) {
    case 'explicit-deny-identity':
      return `${head} with an explicit deny in an identity-based policy`;
    case 'explicit-deny-resource':
      return `${head} with an explicit deny in a resource-based policy`;
    default:
      return `${head} because no ${resourceBased ? 'resource-based' : 'identity-based'} policy allows the ${request.action} action`;
  }
}
