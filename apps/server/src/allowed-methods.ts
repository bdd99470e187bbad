/**
 * Which methods a path has, for the `405 Method Not Allowed` reply (with `Allow`) to a known
 * path asked with another method. Routes are collected as they are registered; the lookup runs
 * only for requests that matched no route, never on the hot path.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

/** The methods of a path, and the route template they belong to. */
export interface AllowedMethods {
  /** Sorted, e.g. `['GET', 'HEAD', 'PUT']`. */
  methods: string[];
  /** The route template, e.g. `/v1/namespaces/:ns/services/:svc/workload`. */
  route: string;
}

interface Template {
  route: string;
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * Starts collecting routes (call before registering any) and returns the lookup: the methods
 * of the route templates that `path` (without query) matches, or undefined when none does.
 */
export function collectAllowedMethods(
  app: FastifyInstance,
): (path: string) => AllowedMethods | undefined {
  const templates = new Map<string, Template>();
  app.addHook('onRoute', (route: RouteOptions) => {
    let template = templates.get(route.url);
    if (!template) {
      template = { route: route.url, pattern: patternOf(route.url), methods: new Set() };
      templates.set(route.url, template);
    }
    for (const method of Array.isArray(route.method) ? route.method : [route.method])
      template.methods.add(method);
  });
  return (path) => {
    let found: AllowedMethods | undefined;
    for (const template of templates.values()) {
      if (!template.pattern.test(path)) continue;
      found ??= { methods: [], route: template.route };
      found.methods.push(...template.methods);
    }
    if (found) found.methods = [...new Set(found.methods)].sort();
    return found;
  };
}

// `/v1/namespaces/:ns/...` -> /^\/v1\/namespaces\/[^/]+\/...$/ (a parameter is one segment).
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}
