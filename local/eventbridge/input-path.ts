/** One step of a compiled JSONPath: an object key or an array index. */
type Step = string | number;

/**
 * Compiles the single-value JSONPath subset targets use for InputPath: `$`, `.name`, `['name']`,
 * `["name"]` and `[n]`. Throws for anything else (filters, wildcards and recursive descent select
 * several values, which InputPath cannot deliver).
 */
export function compileInputPath(path: string): (value: unknown) => unknown {
  const steps = parseSteps(path);
  return (value) => {
    let current: unknown = value;
    for (const step of steps) {
      if (typeof step === 'number') {
        current = Array.isArray(current) ? current[step] : undefined;
      } else if (typeof current === 'object' && current !== null && !Array.isArray(current)) {
        current = Object.hasOwn(current, step) ? (current as Record<string, unknown>)[step] : undefined;
      } else {
        current = undefined;
      }
      if (current === undefined) return undefined;
    }
    return current;
  };
}

function parseSteps(path: string): Step[] {
  if (!path.startsWith('$')) throw new Error(`InputPath "${path}" must start with "$"`);
  const steps: Step[] = [];
  let i = 1;
  while (i < path.length) {
    const rest = path.slice(i);
    const dotted = /^\.([^.[\]*'"]+)/.exec(rest);
    const quoted = /^\[(['"])((?:(?!\1).)*)\1\]/.exec(rest);
    const indexed = /^\[(\d+)\]/.exec(rest);
    if (dotted?.[1]) {
      steps.push(dotted[1]);
      i += dotted[0].length;
    } else if (quoted && quoted[2] !== undefined) {
      steps.push(quoted[2]);
      i += quoted[0].length;
    } else if (indexed?.[1]) {
      steps.push(Number(indexed[1]));
      i += indexed[0].length;
    } else {
      throw new Error(`InputPath "${path}" is not a supported JSONPath (at "${rest}")`);
    }
  }
  return steps;
}
