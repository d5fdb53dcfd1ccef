/**
 * EventBridge event-pattern matching, following the documented content-filtering rules and the
 * semantics of AWS's own matcher (aws/event-ruler), which EventBridge runs:
 * - a pattern is a JSON object; nested objects follow the event's nesting; leaves are non-empty arrays
 *   whose members are OR-ed; sibling fields are AND-ed; `$or` (2+ objects) forks the pattern;
 * - only leaf values (string, number, boolean, null) are matched; arrays in the event are "crushed":
 *   a field matches if any of its elements does, and fields taken from objects in different elements of
 *   the same array never combine (array-consistent matching);
 * - operators: exact values, prefix, suffix (both with equals-ignore-case), equals-ignore-case, wildcard,
 *   anything-but (values, or prefix/suffix/wildcard/equals-ignore-case, single or list), numeric,
 *   exists, cidr (IPv4 and IPv6).
 */
import { type CidrBlock, cidrContains, parseCidr, parseIpAddress } from './ip-address.js';

type Leaf = string | number | boolean | null;

/** Thrown by {@link validateEventPattern} and {@link compileEventPattern} for a pattern EventBridge would reject. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
  /** The AWS error code PutRule/TestEventPattern answer with. */
  readonly code = 'InvalidEventPatternException';
  constructor(reason: string) {
    super(`Event pattern is not valid. Reason: ${reason}`);
  }
}

interface ValueMatcher {
  test(value: Leaf): boolean;
}

interface FieldCondition {
  key: string;
  path: readonly string[];
  matchers: ValueMatcher[];
  /** `{"exists": false}` is listed: the field may be missing from the event altogether. */
  acceptsAbsence: boolean;
}

type Branch = FieldCondition[];

/** A pattern checked once and ready to test many events. */
export interface CompiledEventPattern {
  matches(event: unknown): boolean;
}

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
  'equals-ignore-case',
  'wildcard',
]);

/** Throws {@link InvalidEventPatternError} with the reason when `pattern` (object or JSON text) is malformed. */
export function validateEventPattern(pattern: unknown): void {
  compileEventPattern(pattern);
}

/** Tests one event (object or JSON text) against one pattern (object or JSON text). Throws on a malformed pattern. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern).matches(event);
}

/** Validates and compiles `pattern` (object or JSON text) for repeated matching. */
export function compileEventPattern(pattern: unknown): CompiledEventPattern {
  const root = typeof pattern === 'string' ? parseJson(pattern, 'pattern') : pattern;
  if (!isPlainObject(root)) throw new InvalidEventPatternError('Filter is not an object');
  const branches: Branch[] = [[]];
  const compiled = compileObject(root, [], branches, false);
  return {
    matches(event: unknown): boolean {
      const parsed = typeof event === 'string' ? parseJson(event, 'event') : event;
      if (!isPlainObject(parsed)) return false;
      const index = flattenEvent(parsed);
      return compiled.some((branch) => matchBranch(branch, index));
    },
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (what === 'pattern')
      throw new InvalidEventPatternError(`pattern is not valid JSON (${(error as Error).message})`);
    throw new TypeError(`The ${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Compiling

function compileObject(
  object: Record<string, unknown>,
  path: readonly string[],
  branches: Branch[],
  insideOr: boolean,
): Branch[] {
  const keys = Object.keys(object);
  if (keys.length === 0) throw new InvalidEventPatternError(`Empty objects are not allowed${at(path)}`);
  let current = branches;
  for (const key of keys) {
    const value = object[key];
    if (key === '$or') {
      current = compileOr(value, path, current);
      continue;
    }
    if (insideOr && OPERATORS.has(key)) {
      throw new InvalidEventPatternError(`"${key}" is a reserved operator name and cannot be a field inside $or`);
    }
    const fieldPath = [...path, key];
    if (Array.isArray(value)) {
      const condition = compileField(value, fieldPath);
      for (const branch of current) {
        if (branch.some((c) => c.key === condition.key)) {
          throw new InvalidEventPatternError(`Path "${fieldPath.join('.')}" cannot be allowed multiple times`);
        }
        branch.push(condition);
      }
    } else if (isPlainObject(value)) {
      current = compileObject(value, fieldPath, current, insideOr);
    } else {
      throw new InvalidEventPatternError(`"${key}" must be an object or an array${at(path)}`);
    }
  }
  return current;
}

function compileOr(value: unknown, path: readonly string[], branches: Branch[]): Branch[] {
  if (!Array.isArray(value)) throw new InvalidEventPatternError(`$or must be followed by an array${at(path)}`);
  if (value.length < 2) throw new InvalidEventPatternError(`There must be at least 2 objects in $or${at(path)}`);
  const result: Branch[] = [];
  for (const alternative of value) {
    if (!isPlainObject(alternative)) {
      throw new InvalidEventPatternError(`Only JSON objects are allowed in the array of $or${at(path)}`);
    }
    const copies = branches.map((branch) => [...branch]);
    result.push(...compileObject(alternative, path, copies, true));
  }
  return result;
}

function at(path: readonly string[]): string {
  return path.length ? ` (at "${path.join('.')}")` : '';
}

function compileField(values: unknown[], path: readonly string[]): FieldCondition {
  const where = ` (at "${path.join('.')}")`;
  if (values.length === 0) throw new InvalidEventPatternError(`Empty arrays are not allowed${where}`);
  const matchers: ValueMatcher[] = [];
  let acceptsAbsence = false;
  for (const value of values) {
    if (isPlainObject(value)) {
      const compiled = compileOperator(value, where);
      if (compiled === 'absent') acceptsAbsence = true;
      else matchers.push(compiled);
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
      matchers.push(exactMatcher(value));
    } else {
      throw new InvalidEventPatternError(`Match value must be String, number, true, false, or null${where}`);
    }
  }
  return { key: JSON.stringify(path), path, matchers, acceptsAbsence };
}

function exactMatcher(expected: Leaf): ValueMatcher {
  if (typeof expected === 'number') {
    if (!Number.isFinite(expected)) throw new InvalidEventPatternError('numbers must be finite');
    return { test: (v) => typeof v === 'number' && v === expected };
  }
  if (typeof expected === 'string') {
    // Ruler compares IP-address strings by address, so "2001:db8::1" equals "2001:0db8:0::1".
    const ip = parseIpAddress(expected);
    return {
      test: (v) => {
        if (typeof v !== 'string') return false;
        if (v === expected) return true;
        if (!ip) return false;
        const other = parseIpAddress(v);
        return other !== undefined && other.family === ip.family && other.value === ip.value;
      },
    };
  }
  return { test: (v) => v === expected };
}

function compileOperator(expression: Record<string, unknown>, where: string): ValueMatcher | 'absent' {
  const keys = Object.keys(expression);
  if (keys.length !== 1) throw new InvalidEventPatternError(`Only one key allowed in match expression${where}`);
  const operator = keys[0] as string;
  const operand = expression[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix': {
      const { text, ignoreCase } = stringOrIgnoreCase(operand, operator, where);
      return affixMatcher(operator, text, ignoreCase);
    }
    case 'equals-ignore-case': {
      const text = requireString(operand, 'equals-ignore-case match pattern', where);
      const lower = text.toLowerCase();
      return { test: (v) => typeof v === 'string' && v.toLowerCase() === lower };
    }
    case 'wildcard': {
      const regex = wildcardRegex(requireString(operand, 'wildcard match pattern', where), where);
      return { test: (v) => typeof v === 'string' && regex.test(v) };
    }
    case 'anything-but':
      return anythingButMatcher(operand, where);
    case 'numeric':
      return numericMatcher(operand, where);
    case 'exists':
      if (operand === true) return { test: () => true };
      if (operand === false) return 'absent';
      throw new InvalidEventPatternError(`exists match pattern must be either true or false${where}`);
    case 'cidr': {
      const block = cidrBlock(requireString(operand, 'cidr match pattern', where), where);
      return {
        test: (v) => {
          if (typeof v !== 'string') return false;
          const address = parseIpAddress(v);
          return address !== undefined && cidrContains(block, address);
        },
      };
    }
    default:
      throw new InvalidEventPatternError(`Unrecognized match type ${operator}${where}`);
  }
}

function requireString(value: unknown, what: string, where: string): string {
  if (typeof value !== 'string') throw new InvalidEventPatternError(`${what} must be a string${where}`);
  return value;
}

function stringOrIgnoreCase(value: unknown, operator: string, where: string): { text: string; ignoreCase: boolean } {
  if (typeof value === 'string') return { text: value, ignoreCase: false };
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      throw new InvalidEventPatternError(`Unsupported ${operator} pattern: ${keys.join(', ') || '{}'}${where}`);
    }
    return {
      text: requireString(value['equals-ignore-case'], 'equals-ignore-case match pattern', where),
      ignoreCase: true,
    };
  }
  throw new InvalidEventPatternError(`${operator} match pattern must be a string${where}`);
}

function affixMatcher(operator: 'prefix' | 'suffix', text: string, ignoreCase: boolean): ValueMatcher {
  const needle = ignoreCase ? text.toLowerCase() : text;
  return {
    test: (v) => {
      if (typeof v !== 'string') return false;
      const hay = ignoreCase ? v.toLowerCase() : v;
      return operator === 'prefix' ? hay.startsWith(needle) : hay.endsWith(needle);
    },
  };
}

function cidrBlock(text: string, where: string): CidrBlock {
  try {
    return parseCidr(text);
  } catch (error) {
    throw new InvalidEventPatternError(`${(error as Error).message}${where}`);
  }
}

/**
 * Wildcard syntax: `*` matches any run of characters (including none); `\*` is a literal asterisk and
 * `\\` a literal backslash; any other escape, and two consecutive wildcards, are rejected.
 */
function wildcardRegex(pattern: string, where: string): RegExp {
  let source = '';
  let previousWasWildcard = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        throw new InvalidEventPatternError(`Wildcard "${pattern}": a backslash may only escape "*" or "\\"${where}`);
      }
      source += `\\${next}`;
      i++;
      previousWasWildcard = false;
    } else if (char === '*') {
      if (previousWasWildcard) {
        throw new InvalidEventPatternError(
          `Wildcard "${pattern}": consecutive wildcard characters are not allowed${where}`,
        );
      }
      source += '[\\s\\S]*';
      previousWasWildcard = true;
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      previousWasWildcard = false;
    }
  }
  return new RegExp(`^${source}$`, 'u');
}

function anythingButMatcher(operand: unknown, where: string): ValueMatcher {
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    const [kind] = keys;
    if (keys.length !== 1 || !kind) throw new InvalidEventPatternError(`Only one key allowed in anything-but${where}`);
    if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(kind)) {
      throw new InvalidEventPatternError(`Unsupported anything-but pattern: ${kind}${where}`);
    }
    const raw = operand[kind];
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length === 0) throw new InvalidEventPatternError(`anything-but/${kind} list must not be empty${where}`);
    const texts = list.map((item) => requireString(item, `anything-but/${kind} match pattern`, where));
    let excluded: (value: string) => boolean;
    switch (kind) {
      case 'prefix':
      case 'suffix': {
        if (texts.some((t) => t === '')) throw new InvalidEventPatternError(`Null prefix/suffix not allowed${where}`);
        excluded = (v) => texts.some((t) => (kind === 'prefix' ? v.startsWith(t) : v.endsWith(t)));
        break;
      }
      case 'equals-ignore-case': {
        const lowered = new Set(texts.map((t) => t.toLowerCase()));
        excluded = (v) => lowered.has(v.toLowerCase());
        break;
      }
      case 'wildcard': {
        const regexes = texts.map((t) => wildcardRegex(t, where));
        excluded = (v) => regexes.some((r) => r.test(v));
        break;
      }
      default:
        throw new InvalidEventPatternError(`Unsupported anything-but pattern: ${kind}${where}`);
    }
    // String-shaped exclusions never exclude numbers, booleans or null: those are "anything but" too.
    return { test: (v) => typeof v !== 'string' || !excluded(v) };
  }
  const list = Array.isArray(operand) ? operand : [operand];
  const strings = list.filter((item): item is string => typeof item === 'string');
  const numbers = list.filter((item): item is number => typeof item === 'number' && Number.isFinite(item));
  if (strings.length + numbers.length !== list.length || list.length === 0) {
    throw new InvalidEventPatternError(
      `Value of anything-but must be a string, a number, or a non-empty list of them (null, booleans and objects are not supported)${where}`,
    );
  }
  if (strings.length && numbers.length) {
    throw new InvalidEventPatternError(
      `Inside anything but list, either all values are number or string, mixed type is not supported${where}`,
    );
  }
  const excludedStrings = new Set(strings);
  const excludedNumbers = new Set(numbers);
  return {
    test: (v) => {
      if (typeof v === 'string') return !excludedStrings.has(v);
      if (typeof v === 'number') return !excludedNumbers.has(v);
      return true;
    },
  };
}

const LOWER_OPERATORS = new Set(['>', '>=']);
const UPPER_OPERATORS = new Set(['<', '<=']);

/**
 * Grammar (as Ruler parses it): `["=", n]`, `[">"|">=", n]`, `["<"|"<=", n]`, or a lower bound
 * followed by an upper bound `[">"|">=", lo, "<"|"<=", hi]` with lo < hi.
 */
function numericMatcher(operand: unknown, where: string): ValueMatcher {
  if (!Array.isArray(operand)) throw new InvalidEventPatternError(`Value of numeric must be an array${where}`);
  const terms: [string, number][] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const operator = operand[i];
    const value = operand[i + 1];
    if (typeof operator !== 'string') {
      throw new InvalidEventPatternError(`Invalid member in numeric match: ${JSON.stringify(operator)}${where}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidEventPatternError(`Value of ${operator} must be numeric${where}`);
    }
    terms.push([operator, value]);
  }
  const [first, second, ...rest] = terms;
  if (!first) throw new InvalidEventPatternError(`numeric needs an operator and a value${where}`);
  if (rest.length) throw new InvalidEventPatternError(`Too many terms in numeric range expression${where}`);
  const [firstOperator, firstValue] = first;
  if (firstOperator === '=') {
    if (second) throw new InvalidEventPatternError(`Too many elements in numeric expression${where}`);
    return { test: (v) => typeof v === 'number' && v === firstValue };
  }
  if (UPPER_OPERATORS.has(firstOperator)) {
    if (second) throw new InvalidEventPatternError(`Too many elements in numeric expression${where}`);
    return { test: (v) => typeof v === 'number' && compare(v, firstOperator, firstValue) };
  }
  if (!LOWER_OPERATORS.has(firstOperator)) {
    throw new InvalidEventPatternError(`Unrecognized numeric range operator: ${firstOperator}${where}`);
  }
  if (!second) return { test: (v) => typeof v === 'number' && compare(v, firstOperator, firstValue) };
  const [secondOperator, secondValue] = second;
  if (!UPPER_OPERATORS.has(secondOperator)) {
    throw new InvalidEventPatternError(`Bad numeric range operator: ${secondOperator}${where}`);
  }
  if (!(firstValue < secondValue)) {
    throw new InvalidEventPatternError(`Bottom must be less than top in numeric range${where}`);
  }
  return {
    test: (v) =>
      typeof v === 'number' && compare(v, firstOperator, firstValue) && compare(v, secondOperator, secondValue),
  };
}

function compare(value: number, operator: string, bound: number): boolean {
  switch (operator) {
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    default:
      return value <= bound;
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Which element of which array a leaf came from, outermost first, as [arrayId, elementIndex] pairs. */
type Membership = readonly (readonly [number, number])[];

interface LeafValue {
  value: Leaf;
  membership: Membership;
}

function flattenEvent(event: Record<string, unknown>): Map<string, LeafValue[]> {
  const index = new Map<string, LeafValue[]>();
  let nextArrayId = 0;
  const visit = (value: unknown, path: string[], membership: Membership): void => {
    if (Array.isArray(value)) {
      const arrayId = nextArrayId++;
      value.forEach((element, i) => {
        visit(element, path, [...membership, [arrayId, i]]);
      });
    } else if (isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) visit(child, [...path, key], membership);
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
      const key = JSON.stringify(path);
      const list = index.get(key);
      if (list) list.push({ value, membership });
      else index.set(key, [{ value, membership }]);
    }
  };
  visit(event, [], []);
  return index;
}

function consistent(a: Membership, b: Membership): boolean {
  for (const [arrayA, indexA] of a) {
    for (const [arrayB, indexB] of b) {
      if (arrayA === arrayB && indexA !== indexB) return false;
    }
  }
  return true;
}

function matchBranch(branch: Branch, index: Map<string, LeafValue[]>): boolean {
  const constrained: LeafValue[][] = [];
  for (const condition of branch) {
    const present = index.get(condition.key) ?? [];
    if (present.length === 0 && condition.acceptsAbsence) continue;
    const candidates = present.filter((leaf) => condition.matchers.some((m) => m.test(leaf.value)));
    if (candidates.length === 0) return false;
    // A candidate outside every array constrains nothing, so the field is settled.
    if (candidates.some((leaf) => leaf.membership.length === 0)) continue;
    constrained.push(candidates);
  }
  constrained.sort((a, b) => a.length - b.length);
  const chosen: Membership[] = [];
  const search = (i: number): boolean => {
    const candidates = constrained[i];
    if (!candidates) return true;
    for (const leaf of candidates) {
      if (chosen.every((m) => consistent(m, leaf.membership))) {
        chosen.push(leaf.membership);
        if (search(i + 1)) return true;
        chosen.pop();
      }
    }
    return false;
  };
  return search(0);
}
