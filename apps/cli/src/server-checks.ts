/**
 * What `doctor --server` judges on a running stateful-route server: whether it is ready
 * (`/readyz`: its backend answers) and what its optimizer finds in the live traffic it has
 * served (`/v1/optimizations`, the same analysis as `report`). Its findings are about real
 * traffic, so they are findings about the target.
 */
import type { Finding } from '@stateful-route/optimizer';
import type { Check, CheckStatus } from './checks.js';
import { CliErrorCodes, RemoteError } from './errors.js';
import type { ServerClient } from './http-client.js';
import { formatNumber } from './output.js';

const STATUS_OF_SEVERITY: Record<Finding['severity'], CheckStatus> = {
  critical: 'fail',
  warning: 'warn',
  info: 'info',
};

/** `/readyz`: 200 `{ status: 'ok', backend, latencyMs, scriptsLoaded }`, or 503 with a reason. */
export function judgeReadiness(status: number, text: string): Check[] {
  let body: {
    status?: unknown;
    backend?: unknown;
    latencyMs?: unknown;
    scriptsLoaded?: unknown;
    reason?: unknown;
  };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return [
      {
        id: 'ready',
        status: 'fail',
        value: `GET /readyz answered ${status} with something that is not JSON`,
        reason: 'is --server a stateful-route server?',
      },
    ];
  }
  if (status !== 200 || body.status !== 'ok') {
    return [
      {
        id: 'ready',
        status: 'fail',
        value: `not ready (GET /readyz answered ${status})`,
        reason: typeof body.reason === 'string' ? body.reason : 'its backend does not answer',
      },
    ];
  }
  const latency =
    typeof body.latencyMs === 'number' ? `, check took ${formatNumber(body.latencyMs, 3)} ms` : '';
  return [
    { id: 'ready', status: 'ok', value: `ready, backend ${String(body.backend)}${latency}` },
    body.scriptsLoaded === true
      ? { id: 'scripts', status: 'ok', value: 'loaded' }
      : {
          id: 'scripts',
          status: 'info',
          value: 'not all loaded',
          reason: 'normal before the first link write: the executor loads them on first use',
        },
  ];
}

/** One check per finding of the server's optimizer; one `ok` check when there is none. */
export function judgeFindings(findings: readonly Finding[]): Check[] {
  if (findings.length === 0) {
    return [{ id: 'traffic', status: 'ok', value: 'no findings on the live traffic' }];
  }
  return findings.map((finding) => {
    const evidence = finding.evidence
      .map((e) => `${e.metric} ${formatNumber(e.observed, 3)}${e.unit ? ` ${e.unit}` : ''}`)
      .join(', ');
    return {
      id: `traffic:${finding.id}`,
      status: STATUS_OF_SEVERITY[finding.severity] ?? 'info',
      value: evidence ? `${finding.title} (${evidence})` : finding.title,
      reason: finding.recommendation,
    };
  });
}

/** The findings of a `/v1/optimizations` reply. @throws SR_CLI_REMOTE when it has none */
export function findingsOf(reply: unknown): Finding[] {
  const list = Array.isArray(reply) ? reply : (reply as { findings?: unknown } | null)?.findings;
  if (!Array.isArray(list)) {
    throw new RemoteError(
      200,
      CliErrorCodes.REMOTE,
      'the server replied to /v1/optimizations without findings',
    );
  }
  return list as Finding[];
}

/**
 * Judges a server: readiness, then its optimizer's findings on the traffic it has served.
 * @throws SR_CLI_UNREACHABLE when it does not answer (exit 3)
 */
export async function checkServerTarget(
  client: ServerClient,
): Promise<{ checks: Check[]; findings: Finding[] }> {
  const ready = await client.probe('/readyz');
  const checks = judgeReadiness(ready.status, ready.text);
  let findings: Finding[];
  try {
    findings = findingsOf(await client.json<unknown>('/v1/optimizations'));
  } catch (error) {
    // A server that is not ready may not be able to analyse either; say so beside the cause.
    if (checks.every((c) => c.status !== 'fail')) throw error;
    checks.push({
      id: 'traffic',
      status: 'info',
      value: 'not analysed',
      reason: (error as Error).message,
    });
    return { checks, findings: [] };
  }
  checks.push(...judgeFindings(findings));
  return { checks, findings };
}
