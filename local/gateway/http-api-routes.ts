/** One route of an HTTP API, as configured. */
export interface HttpApiRouteConfig {
  /** An HTTP method, or `ANY`. */
  method: string;
  /** e.g. `/rooms/{room}/messages`, `/{proxy+}`, or `$default`. */
  path: string;
  functionName: string;
  /** Whether the route uses the API's Lambda authorizer. */
  authorized: boolean;
}

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

interface CompiledRoute {
  config: HttpApiRouteConfig;
  routeKey: string;
  method: string;
  segments: Segment[] | undefined;
}

/** A matched route with its route key and decoded path parameters. */
export interface RouteMatch {
  route: HttpApiRouteConfig;
  routeKey: string;
  pathParameters: Record<string, string>;
}

// Lower ranks win: a literal segment beats a variable, which beats a greedy variable.
const SEGMENT_RANK = { literal: 0, param: 1, greedy: 2 } as const;

/**
 * Builds HTTP API route matching: the most specific route wins, comparing segments left to right
 * (literal over `{var}` over `{proxy+}`), then a specific method over `ANY`, and `$default` last.
 */
export function compileHttpApiRoutes(
  routes: readonly HttpApiRouteConfig[],
): (method: string, rawPath: string) => RouteMatch | undefined {
  const compiled = routes.map(compileRoute);
  return (method, rawPath) => {
    const requestSegments = rawPath.split('/').slice(1);
    let best: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of compiled) {
      if (route.method !== 'ANY' && route.method !== method.toUpperCase()) continue;
      const params = route.segments === undefined ? {} : matchSegments(route.segments, requestSegments);
      if (params === undefined) continue;
      if (!best || compareSpecificity(route, best.route) < 0) best = { route, params };
    }
    if (!best) return undefined;
    return { route: best.route.config, routeKey: best.route.routeKey, pathParameters: best.params };
  };
}

function compileRoute(config: HttpApiRouteConfig): CompiledRoute {
  const method = config.method.toUpperCase();
  if (config.path === '$default') return { config, routeKey: '$default', method: 'ANY', segments: undefined };
  if (!config.path.startsWith('/')) throw new Error(`HTTP API route path must start with "/": ${config.path}`);
  const parts = config.path.split('/').slice(1);
  const segments = parts.map((part, index): Segment => {
    const variable = /^\{([^{}]+)\}$/.exec(part)?.[1];
    if (variable === undefined) return { kind: 'literal', value: part };
    if (variable.endsWith('+')) {
      if (index !== parts.length - 1) throw new Error(`greedy path variable must be last: ${config.path}`);
      return { kind: 'greedy', name: variable.slice(0, -1) };
    }
    return { kind: 'param', name: variable };
  });
  return { config, routeKey: `${method} ${config.path}`, method, segments };
}

function matchSegments(segments: Segment[], request: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    if (segment.kind === 'greedy') {
      const rest = request.slice(index);
      if (rest.length === 0 || rest.every((part) => part === '')) return undefined;
      params[segment.name] = decode(rest.join('/'));
      return params;
    }
    const part = request[index];
    if (part === undefined) return undefined;
    if (segment.kind === 'literal') {
      if (part !== segment.value) return undefined;
    } else {
      if (part === '') return undefined;
      params[segment.name] = decode(part);
    }
  }
  return segments.length === request.length ? params : undefined;
}

function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  if (a.segments === undefined || b.segments === undefined) {
    return (a.segments === undefined ? 1 : 0) - (b.segments === undefined ? 1 : 0);
  }
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i += 1) {
    const rankA = a.segments[i] ? SEGMENT_RANK[(a.segments[i] as Segment).kind] : 3;
    const rankB = b.segments[i] ? SEGMENT_RANK[(b.segments[i] as Segment).kind] : 3;
    if (rankA !== rankB) return rankA - rankB;
  }
  return (a.method === 'ANY' ? 1 : 0) - (b.method === 'ANY' ? 1 : 0);
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
