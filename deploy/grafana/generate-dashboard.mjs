// Generates stateful-route.json: `node deploy/grafana/generate-dashboard.mjs > deploy/grafana/stateful-route.json`
// (then `pnpm exec prettier --write deploy/grafana`). The dashboard is data; writing it from
// a few helpers keeps 20-odd panels consistent (same filters, units, legends), and the
// prometheus-e2e test sends every query below to a real Prometheus.
import process from 'node:process';

const sel = 'job=~"$job", instance=~"$instance"';
const opSel = `${sel}, operation=~"$operation"`;
const ds = { type: 'prometheus', uid: '${datasource}' };
let id = 0;
const row = (title, y) => ({
  type: 'row',
  title,
  id: ++id,
  collapsed: false,
  gridPos: { h: 1, w: 24, x: 0, y },
  panels: [],
});
const ts = (title, description, targets, gridPos, unit, extra = {}) => ({
  type: 'timeseries',
  title,
  description,
  id: ++id,
  datasource: ds,
  gridPos,
  fieldConfig: {
    defaults: {
      unit,
      min: 0,
      custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' },
      ...(extra.defaults ?? {}),
    },
    overrides: extra.overrides ?? [],
  },
  options: {
    legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
  targets: targets.map(([expr, legendFormat], i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: ds,
    expr,
    legendFormat,
    range: true,
  })),
});
const stat = (title, description, expr, gridPos, unit, thresholds, extra = {}) => ({
  type: 'stat',
  title,
  description,
  id: ++id,
  datasource: ds,
  gridPos,
  fieldConfig: {
    defaults: {
      unit,
      thresholds: { mode: 'absolute', steps: thresholds },
      ...(extra.defaults ?? {}),
    },
    overrides: [],
  },
  options: {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    colorMode: 'background',
    graphMode: 'area',
    textMode: 'auto',
    justifyMode: 'auto',
    orientation: 'auto',
  },
  targets: [
    {
      refId: 'A',
      datasource: ds,
      expr,
      legendFormat: extra.legend ?? '',
      instant: false,
      range: true,
    },
  ],
});
const rate = (m, s = opSel) => `rate(${m}{${s}}[$__rate_interval])`;
const q = (p, by) =>
  `histogram_quantile(${p}, sum by (${by}le) (${rate('stateful_executor_operation_duration_seconds_bucket')}))`;
// Hit ratio over the rate window from the hit and miss counters (the cache_hit_ratio gauge
// counts since the executor was created, and hardly moves after a long uptime); no value
// while the cache is not used.
const hitRatio = (cacheSel, by) => {
  const sum = by ? `sum ${by} (` : 'sum(';
  const hits = `${sum}rate(stateful_executor_cache_hits_total{${cacheSel}}[$__rate_interval]))`;
  const misses = `${sum}rate(stateful_executor_cache_misses_total{${cacheSel}}[$__rate_interval]))`;
  return `${hits} / ((${hits} + ${misses}) > 0)`;
};
const hq = (p, by) =>
  `histogram_quantile(${p}, sum by (${by}le) (rate(http_request_duration_seconds_bucket{${sel}}[$__rate_interval])))`;

const panels = [];
let y = 0;
panels.push(row('Overview', y));
y += 1;
panels.push(
  stat(
    'Operations/s',
    'Executor operations per second, every operation and status.',
    `sum(${rate('stateful_executor_operations_total')})`,
    { h: 4, w: 6, x: 0, y },
    'ops',
    [{ color: 'blue', value: null }],
  ),
);
panels.push(
  stat(
    'Error ratio',
    'Failed operations over all operations (status="error").',
    `sum(${rate('stateful_executor_operations_total', opSel + ', status="error"')}) / sum(${rate('stateful_executor_operations_total')})`,
    { h: 4, w: 6, x: 6, y },
    'percentunit',
    [
      { color: 'green', value: null },
      { color: 'orange', value: 0.001 },
      { color: 'red', value: 0.01 },
    ],
  ),
);
panels.push(
  stat(
    'p99 latency',
    'p99 of every operation together, from the duration histogram.',
    q(0.99, ''),
    { h: 4, w: 6, x: 12, y },
    's',
    [
      { color: 'green', value: null },
      { color: 'orange', value: 0.01 },
      { color: 'red', value: 0.05 },
    ],
  ),
);
panels.push(
  stat(
    'Script cache hit ratio',
    'Script calls served by SHA (EVALSHA) over all script calls in the rate window, from the hit and miss counters. Below 0.8: EVAL transport in use or Redis losing its script cache.',
    hitRatio(`${sel}, cache_type="script"`, ''),
    { h: 4, w: 6, x: 18, y },
    'percentunit',
    [
      { color: 'red', value: null },
      { color: 'orange', value: 0.8 },
      { color: 'green', value: 0.95 },
    ],
    { defaults: { min: 0, max: 1 } },
  ),
);
y += 4;
panels.push(row('Operations', y));
y += 1;
panels.push(
  ts(
    'Operations by status',
    'Executor operations per second by status (success, error).',
    [[`sum by (status) (${rate('stateful_executor_operations_total')})`, '{{status}}']],
    { h: 8, w: 12, x: 0, y },
    'ops',
    {
      overrides: [
        {
          matcher: { id: 'byName', options: 'error' },
          properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }],
        },
        {
          matcher: { id: 'byName', options: 'success' },
          properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'green' } }],
        },
      ],
    },
  ),
);
panels.push(
  ts(
    'Operations by operation',
    'Executor operations per second by operation.',
    [[`sum by (operation) (${rate('stateful_executor_operations_total')})`, '{{operation}}']],
    { h: 8, w: 12, x: 12, y },
    'ops',
  ),
);
y += 8;
panels.push(row('Latency', y));
y += 1;
panels.push(
  ts(
    'Latency percentiles (all operations)',
    'p50, p90, p99 and p99.9 estimated from the histogram buckets (histogram_quantile interpolates inside a bucket).',
    [
      [q(0.5, ''), 'p50'],
      [q(0.9, ''), 'p90'],
      [q(0.99, ''), 'p99'],
      [q(0.999, ''), 'p99.9'],
    ],
    { h: 8, w: 12, x: 0, y },
    's',
  ),
);
panels.push(
  ts(
    'p99 by operation',
    'p99 per operation from the duration histogram.',
    [[q(0.99, 'operation, '), '{{operation}}']],
    { h: 8, w: 12, x: 12, y },
    's',
  ),
);
y += 8;
panels.push(
  ts(
    'Mean latency by operation',
    'Sum of durations over count: the mean, which hides the tail; read it next to the p99.',
    [
      [
        `sum by (operation) (${rate('stateful_executor_operation_duration_seconds_sum')}) / sum by (operation) (${rate('stateful_executor_operation_duration_seconds_count')})`,
        '{{operation}}',
      ],
    ],
    { h: 8, w: 12, x: 0, y },
    's',
  ),
);
panels.push({
  type: 'heatmap',
  title: 'Latency distribution',
  description: 'Observations per histogram bucket over time, every operation selected.',
  id: ++id,
  datasource: ds,
  gridPos: { h: 8, w: 12, x: 12, y },
  options: {
    calculate: false,
    yAxis: { unit: 's' },
    cellGap: 1,
    color: { mode: 'scheme', scheme: 'Oranges', steps: 64 },
    tooltip: { show: true, yHistogram: true },
  },
  targets: [
    {
      refId: 'A',
      datasource: ds,
      expr: `sum by (le) (increase(stateful_executor_operation_duration_seconds_bucket{${opSel}}[$__rate_interval]))`,
      legendFormat: '{{le}}',
      format: 'heatmap',
      range: true,
    },
  ],
});
y += 8;
panels.push(row('Errors', y));
y += 1;
panels.push(
  ts(
    'Errors by type',
    'Failed operations per second by error type (validation, capacity, connection, timeout, script, cluster, other). capacity: allocate refused, no pod with room.',
    [[`sum by (error_type) (${rate('stateful_executor_errors_total')})`, '{{error_type}}']],
    { h: 8, w: 12, x: 0, y },
    'ops',
  ),
);
panels.push(
  ts(
    'Errors by operation',
    'Failed operations per second by operation and error type.',
    [
      [
        `sum by (operation, error_type) (${rate('stateful_executor_errors_total')})`,
        '{{operation}} {{error_type}}',
      ],
    ],
    { h: 8, w: 12, x: 12, y },
    'ops',
  ),
);
y += 8;
panels.push(row('Redis', y));
y += 1;
panels.push(
  ts(
    'Cache hit ratios',
    'Over the rate window, from the hit and miss counters. script: script calls served by SHA over all script calls. near: near-cache hits over lookups (only with a near cache).',
    [[hitRatio(sel, 'by (instance, cache_type)'), '{{instance}} {{cache_type}}']],
    { h: 8, w: 12, x: 0, y },
    'percentunit',
    { defaults: { max: 1 } },
  ),
);
panels.push(
  ts(
    'Redis connection status',
    'Connections of the executor in each state. Anything but ready for long means calls fail.',
    [[`sum by (status) (stateful_executor_redis_connection_status{${sel}})`, '{{status}}']],
    { h: 8, w: 12, x: 12, y },
    'short',
    {
      overrides: [
        {
          matcher: { id: 'byName', options: 'ready' },
          properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'green' } }],
        },
      ],
    },
  ),
);
y += 8;
panels.push(
  ts(
    'Script loads, NOSCRIPT reloads, reconnects',
    'Per second. NOSCRIPT reloads mean Redis lost its script cache (restart, SCRIPT FLUSH, failover); reconnects mean the connection dropped.',
    [
      [`sum(rate(stateful_executor_script_loads_total{${sel}}[$__rate_interval]))`, 'script loads'],
      [
        `sum(rate(stateful_executor_noscript_reloads_total{${sel}}[$__rate_interval]))`,
        'NOSCRIPT reloads',
      ],
      [
        `sum(rate(stateful_executor_redis_reconnects_total{${sel}}[$__rate_interval]))`,
        'reconnects',
      ],
    ],
    { h: 8, w: 12, x: 0, y },
    'ops',
  ),
);
panels.push(
  ts(
    'Operations in flight',
    'Executor operations started and not yet settled, by operation.',
    [[`sum by (operation) (stateful_executor_operations_in_flight{${opSel}})`, '{{operation}}']],
    { h: 8, w: 12, x: 12, y },
    'short',
  ),
);
y += 8;
panels.push(
  ts(
    'Redis memory',
    'INFO used_memory per node, and maxmemory when set (0 = no limit is not drawn).',
    [
      [`max by (node) (stateful_executor_redis_used_memory_bytes{${sel}})`, 'used {{node}}'],
      [`max by (node) (stateful_executor_redis_maxmemory_bytes{${sel}} > 0)`, 'maxmemory {{node}}'],
    ],
    { h: 8, w: 8, x: 0, y },
    'bytes',
  ),
);
panels.push(
  ts(
    'Redis clients and ops/s',
    'INFO connected_clients and instantaneous_ops_per_sec per node (every client of that Redis, not only this server).',
    [
      [`max by (node) (stateful_executor_redis_connected_clients{${sel}})`, 'clients {{node}}'],
      [
        `max by (node) (stateful_executor_redis_instantaneous_ops_per_second{${sel}})`,
        'ops/s {{node}}',
      ],
    ],
    { h: 8, w: 8, x: 8, y },
    'short',
  ),
);
panels.push(
  ts(
    'Redis keys',
    'Keys per node and database (INFO keyspace).',
    [[`max by (node, db) (stateful_executor_redis_keys{${sel}})`, '{{node}} {{db}}']],
    { h: 8, w: 8, x: 16, y },
    'short',
  ),
);
y += 8;
panels.push(row('Placement', y));
y += 1;
panels.push(
  ts(
    'Allocations by result',
    'allocate calls per second by result: created (placed now), existing (the uid already had a pod), no_capacity (refused: every live, non-draining pod is full).',
    [[`sum by (result) (${rate('stateful_executor_allocations_total', sel)})`, '{{result}}']],
    { h: 8, w: 8, x: 0, y },
    'ops',
    {
      overrides: [
        {
          matcher: { id: 'byName', options: 'no_capacity' },
          properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }],
        },
      ],
    },
  ),
);
panels.push(
  ts(
    'Claims released by cause',
    'Placement claims freed per second: release (the caller), expired (the link timed out), swept (a dead pod), reconciled (drift repaired), lost_race (a Cluster link lost to another writer).',
    [[`sum by (cause) (${rate('stateful_executor_claims_released_total', sel)})`, '{{cause}}']],
    { h: 8, w: 8, x: 8, y },
    'ops',
  ),
);
panels.push(
  ts(
    'Dead-pod sweeps',
    'Sweeps of dead pods completed per second, and the links of dead pods they deleted.',
    [
      [`sum(${rate('stateful_executor_placement_sweeps_total', sel)})`, 'sweeps'],
      [`sum(${rate('stateful_executor_links_swept_total', sel)})`, 'links swept'],
    ],
    { h: 8, w: 8, x: 16, y },
    'ops',
  ),
);
y += 8;
panels.push(row('HTTP', y));
y += 1;
panels.push(
  ts(
    'HTTP requests by route and status',
    'Requests per second answered by the server, by route template and status code.',
    [
      [
        `sum by (route, status_code) (rate(http_request_duration_seconds_count{${sel}}[$__rate_interval]))`,
        '{{route}} {{status_code}}',
      ],
    ],
    { h: 8, w: 12, x: 0, y },
    'reqps',
  ),
);
panels.push(
  ts(
    'HTTP latency',
    'p50 and p99 of request duration, every route; p99 per route.',
    [
      [hq(0.5, ''), 'p50'],
      [hq(0.99, ''), 'p99'],
      [hq(0.99, 'route, '), 'p99 {{route}}'],
    ],
    { h: 8, w: 12, x: 12, y },
    's',
  ),
);
y += 8;
panels.push(
  ts(
    'HTTP 4xx and 5xx',
    'Requests per second answered with a client or server error status.',
    [
      [
        `sum by (status_code) (rate(http_request_duration_seconds_count{${sel}, status_code=~"4..|5.."}[$__rate_interval]))`,
        '{{status_code}}',
      ],
    ],
    { h: 8, w: 24, x: 0, y },
    'reqps',
  ),
);

const variable = (name, label, query, extra = {}) => ({
  name,
  label,
  type: 'query',
  datasource: ds,
  query: { query, refId: name },
  definition: query,
  refresh: 2,
  includeAll: true,
  multi: true,
  allValue: '.*',
  current: { selected: true, text: ['All'], value: ['$__all'] },
  sort: 1,
  ...extra,
});
const dashboard = {
  __inputs: [],
  title: 'stateful-route',
  uid: 'stateful-route',
  description:
    'The stateful-route executor and server: operations, latency from the histograms, errors by type, script cache, Redis connections, placement and HTTP.',
  tags: ['stateful-route', 'redis'],
  editable: true,
  graphTooltip: 1,
  schemaVersion: 39,
  version: 1,
  refresh: '30s',
  time: { from: 'now-1h', to: 'now' },
  timepicker: {},
  timezone: 'browser',
  links: [],
  annotations: { list: [] },
  templating: {
    list: [
      {
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'prometheus',
        current: {},
        hide: 0,
        refresh: 1,
      },
      variable('job', 'Job', 'label_values(stateful_executor_operations_total, job)'),
      variable(
        'instance',
        'Instance',
        'label_values(stateful_executor_operations_total{job=~"$job"}, instance)',
      ),
      variable(
        'operation',
        'Operation',
        'label_values(stateful_executor_operations_total{job=~"$job", instance=~"$instance"}, operation)',
      ),
    ],
  },
  panels,
};
process.stdout.write(JSON.stringify(dashboard, null, 2) + '\n');
