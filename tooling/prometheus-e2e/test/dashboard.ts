// Reads the PromQL of every panel of the Grafana dashboard, with Grafana's variables
// replaced so the queries can be sent to a plain Prometheus.
import { readFile } from 'node:fs/promises';

/** One panel query of the dashboard. */
export interface DashboardQuery {
  panel: string;
  /** The query as written in the dashboard. */
  expr: string;
  /** The query with `$job`, `$instance`, `$operation` and `$__rate_interval` filled in. */
  resolved: string;
}

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

const dashboardUrl = new URL('../../../deploy/grafana/stateful-route.json', import.meta.url);

/** Every panel query of deploy/grafana/stateful-route.json. */
export async function dashboardQueries(rateInterval = '5s'): Promise<DashboardQuery[]> {
  const dashboard = JSON.parse(await readFile(dashboardUrl, 'utf8')) as { panels: Panel[] };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      panel: panel.title,
      expr: target.expr,
      resolved: target.expr
        .replaceAll('$__rate_interval', rateInterval)
        .replaceAll('$job', '.*')
        .replaceAll('$instance', '.*')
        .replaceAll('$operation', '.*'),
    })),
  );
}
