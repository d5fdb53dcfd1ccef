/**
 * Template parameter overrides, given and checked the way `sam deploy --parameter-overrides` and
 * CloudFormation take them: `Key=Value` pairs, refused when the root template does not declare the
 * key or when the value breaks the declared AllowedValues, AllowedPattern or number bounds. Locally
 * a typo would otherwise be ignored and the stack would run with the default.
 */

export interface ParameterDeclaration {
  Type?: string;
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  MinValue?: number | string;
  MaxValue?: number | string;
  MinLength?: number | string;
  MaxLength?: number | string;
}

/** A parameter override the template refuses, with CloudFormation's wording. */
export class ParameterOverrideError extends Error {
  override name = 'ParameterOverrideError';
}

/** `['Tracing=Active', 'Origin=a=b']` → `{ Tracing: 'Active', Origin: 'a=b' }`; the first `=` splits. */
export function parseParameterOverrides(pairs: readonly string[]): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const pair of pairs) {
    const split = pair.indexOf('=');
    if (split <= 0) throw new ParameterOverrideError(`--parameter takes Key=Value, not "${pair}"`);
    overrides[pair.slice(0, split)] = pair.slice(split + 1);
  }
  return overrides;
}

/** Throws naming every override the template does not declare, or whose value it does not allow. */
export function checkParameterOverrides(
  declared: Record<string, ParameterDeclaration> | undefined,
  overrides: Record<string, string>,
): void {
  const unknown = Object.keys(overrides).filter((key) => !declared?.[key]);
  if (unknown.length > 0) {
    throw new ParameterOverrideError(`Parameters: [${unknown.join(', ')}] do not exist in the template`);
  }
  for (const [key, value] of Object.entries(overrides)) {
    const problem = violation(declared?.[key] ?? {}, value);
    if (problem) throw new ParameterOverrideError(`Parameter '${key}' ${problem}`);
  }
}

function violation(declaration: ParameterDeclaration, value: string): string | undefined {
  const allowed = declaration.AllowedValues?.map(String);
  if (allowed && !allowed.includes(value)) return `must be one of AllowedValues (${allowed.join(', ')})`;
  if (declaration.AllowedPattern !== undefined && !new RegExp(`^(?:${declaration.AllowedPattern})$`).test(value)) {
    return `must match pattern ${declaration.AllowedPattern}`;
  }
  if (declaration.Type === 'Number') {
    const number = Number(value);
    if (value.trim() === '' || Number.isNaN(number)) return 'must be a number';
    if (declaration.MinValue !== undefined && number < Number(declaration.MinValue)) {
      return `must be a number not less than ${declaration.MinValue}`;
    }
    if (declaration.MaxValue !== undefined && number > Number(declaration.MaxValue)) {
      return `must be a number not greater than ${declaration.MaxValue}`;
    }
  }
  if (declaration.MinLength !== undefined && value.length < Number(declaration.MinLength)) {
    return `must contain at least ${declaration.MinLength} characters`;
  }
  if (declaration.MaxLength !== undefined && value.length > Number(declaration.MaxLength)) {
    return `must contain at most ${declaration.MaxLength} characters`;
  }
  return undefined;
}
