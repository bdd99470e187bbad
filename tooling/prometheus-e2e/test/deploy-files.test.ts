// Static checks of the examples under deploy/: the alert rules and scrape config through
// Debian's promtool (syntax, and the unit tests in alerts.test.yml), the Kubernetes
// manifests and the Grafana dashboard against what the server actually serves.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { dashboardQueries } from './dashboard.js';

const run = promisify(execFile);
const deploy = fileURLToPath(new URL('../../../deploy/', import.meta.url));

async function promtool(...args: string[]): Promise<string> {
  // promtool prints its verdicts on stdout and stderr; a non-zero exit rejects with both.
  const { stdout, stderr } = await run('promtool', args, { cwd: deploy });
  return stdout + stderr;
}

async function loadYamlDocuments(path: string): Promise<Record<string, unknown>[]> {
  return yaml.loadAll(await readFile(`${deploy}${path}`, 'utf8')) as Record<string, unknown>[];
}

describe('deploy/prometheus', () => {
  it('alert rules pass promtool check rules', async () => {
    const out = await promtool('check', 'rules', 'prometheus/alerts.yml');
    expect(out).toMatch(/SUCCESS: 12 rules found/);
  });

  it('the scrape config passes promtool check config', async () => {
    const out = await promtool('check', 'config', 'prometheus/prometheus.yml');
    expect(out).toMatch(/is valid prometheus config file syntax/);
  });

  it('every alert fires above its threshold and stays quiet below (promtool test rules)', async () => {
    const out = await promtool('test', 'rules', 'prometheus/alerts.test.yml');
    expect(out).toMatch(/SUCCESS/);
  });

  it('every alert of alerts.yml has a unit test case', async () => {
    const [rules] = await loadYamlDocuments('prometheus/alerts.yml');
    const [tests] = await loadYamlDocuments('prometheus/alerts.test.yml');
    const alerts = (rules as { groups: { rules: { alert?: string }[] }[] }).groups
      .flatMap((g) => g.rules)
      .flatMap((r) => (r.alert ? [r.alert] : []));
    const tested = new Set(
      (tests as { tests: { alert_rule_test?: { alertname: string }[] }[] }).tests.flatMap((t) =>
        (t.alert_rule_test ?? []).map((a) => a.alertname),
      ),
    );
    expect(alerts).toHaveLength(7);
    for (const alert of alerts) expect(tested, alert).toContain(alert);
  });

  it('the paging error ratio leaves out validation (callers) and capacity (full pods) errors, and only those', async () => {
    const [rules] = await loadYamlDocuments('prometheus/alerts.yml');
    const all = (
      rules as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] }
    ).groups[0]!.rules;
    const alert = all.find((r) => r.alert === 'StatefulRouteHighErrorRatio')!;
    const record = all.find((r) => r.record === alert.expr.split(' ')[0])!;
    expect(record.record).toBe('stateful_route:server_error_ratio:rate5m');
    expect(record.expr).toContain(
      'stateful_executor_errors_total{error_type!~"validation|capacity"}',
    );
  });

  it('the job the server-down alerts select is the job of prometheus.yml and of the ServiceMonitor', async () => {
    const [rules] = await loadYamlDocuments('prometheus/alerts.yml');
    const [config] = await loadYamlDocuments('prometheus/prometheus.yml');
    const [monitor] = await loadYamlDocuments('kubernetes/servicemonitor.yaml');
    const all = (rules as { groups: { rules: { alert?: string; expr: string }[] }[] }).groups[0]!
      .rules;
    const jobs = ['StatefulRouteServerDown', 'StatefulRouteServerAbsent'].map((name) => {
      const expr = all.find((r) => r.alert === name)!.expr;
      return /up\{job="([^"]+)"\}/.exec(expr)?.[1];
    });
    const scrapeJob = (config as { scrape_configs: { job_name: string }[] }).scrape_configs[0]!
      .job_name;
    const relabel = (
      monitor as {
        spec: {
          endpoints: { relabelings?: { targetLabel: string; replacement: string }[] }[];
        };
      }
    ).spec.endpoints[0]!.relabelings?.find((r) => r.targetLabel === 'job');
    expect(jobs).toEqual([scrapeJob, scrapeJob]);
    expect(relabel?.replacement).toBe(scrapeJob);
  });
});

describe('deploy/kubernetes', () => {
  it('the Deployment probes /healthz (liveness) and /readyz (readiness) on the served port', async () => {
    const [deployment] = await loadYamlDocuments('kubernetes/deployment.yaml');
    const spec = deployment as {
      kind: string;
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: {
          metadata: { labels: Record<string, string> };
          spec: {
            containers: {
              args: string[];
              ports: { name: string; containerPort: number }[];
              livenessProbe: { httpGet: { path: string; port: string } };
              readinessProbe: { httpGet: { path: string; port: string } };
            }[];
          };
        };
      };
    };
    expect(spec.kind).toBe('Deployment');
    const container = spec.spec.template.spec.containers[0]!;
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const port = container.ports.find((p) => p.name === 'http')!.containerPort;
    expect(container.args.join(' ')).toContain(`--port ${port}`);
    expect(container.args.join(' ')).toContain('--host 0.0.0.0');
    expect(spec.spec.template.metadata.labels).toMatchObject(spec.spec.selector.matchLabels);
  });

  it('the Service selects the pods and the ServiceMonitor scrapes its http port', async () => {
    const [deployment] = await loadYamlDocuments('kubernetes/deployment.yaml');
    const [service] = await loadYamlDocuments('kubernetes/service.yaml');
    const [monitor] = await loadYamlDocuments('kubernetes/servicemonitor.yaml');
    const podLabels = (deployment as { spec: { template: { metadata: { labels: object } } } }).spec
      .template.metadata.labels;
    const svc = service as {
      metadata: { labels: Record<string, string> };
      spec: { selector: Record<string, string>; ports: { name: string }[] };
    };
    expect(podLabels).toMatchObject(svc.spec.selector);
    const sm = monitor as {
      apiVersion: string;
      kind: string;
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    };
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.kind).toBe('ServiceMonitor');
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    expect(svc.spec.ports.map((p) => p.name)).toContain('http');
  });
});

describe('deploy/grafana', () => {
  it('the committed dashboard is what generate-dashboard.mjs writes', async () => {
    const { stdout } = await run('node', [`${deploy}grafana/generate-dashboard.mjs`]);
    const committed: unknown = JSON.parse(
      await readFile(`${deploy}grafana/stateful-route.json`, 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(stdout));
  });

  it('the dashboard covers every metric the issue names, with unique panel ids', async () => {
    const dashboard = JSON.parse(
      await readFile(`${deploy}grafana/stateful-route.json`, 'utf8'),
    ) as { uid: string; panels: { id: number }[] };
    expect(dashboard.uid).toBe('stateful-route');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const exprs = (await dashboardQueries()).map((q) => q.expr).join('\n');
    for (const needle of [
      'stateful_executor_operations_total',
      'histogram_quantile(0.99, sum by (le) (rate(stateful_executor_operation_duration_seconds_bucket',
      'stateful_executor_errors_total',
      'stateful_executor_cache_hits_total{',
      'stateful_executor_cache_misses_total{',
      'stateful_executor_redis_connection_status{',
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_count',
    ]) {
      expect(exprs).toContain(needle);
    }
  });
});
