const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/**
 * Replaces every `${Name}` in an ASL text with `values[Name]`, as CloudFormation's
 * DefinitionSubstitutions do (plain text replacement, so a value lands inside whatever JSON string
 * or position holds its placeholder). Throws naming the placeholders that have no value.
 */
export function applyDefinitionSubstitutions(
  definition: string,
  values: Readonly<Record<string, string | number | boolean>>,
): string {
  const missing = new Set<string>();
  const result = definition.replace(PLACEHOLDER, (placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) {
      missing.add(name);
      return placeholder;
    }
    return String(value);
  });
  if (missing.size > 0) {
    throw new Error(`No value for DefinitionSubstitutions: ${[...missing].join(', ')}`);
  }
  return result;
}

/** The `${Name}` placeholders still present in an ASL text. */
export function findDefinitionPlaceholders(definition: string): string[] {
  return [...new Set(Array.from(definition.matchAll(PLACEHOLDER), (match) => match[1] ?? ''))];
}
