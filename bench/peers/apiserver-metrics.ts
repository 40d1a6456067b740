// Where a pod create's time goes inside kube-apiserver: sums and counts of its own histograms (Prometheus text
// format, GET /metrics), scraped before and after a block of creates. Pure: parsing and differences only.

/** `{sum, count}` of histogram `name` over every series whose labels include all of `match`. */
export function sumCount(
  text: string,
  name: string,
  match: Record<string, string> = {},
): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  const re = new RegExp(`^${name}_(sum|count)(?:\\{([^}]*)\\})?\\s+([0-9.eE+-]+|NaN)`, 'gm');
  for (const m of text.matchAll(re)) {
    const labels = labelsOf(m[2] ?? '');
    if (!Object.entries(match).every(([k, v]) => labels[k] === v)) continue;
    if (m[1] === 'sum') sum += Number(m[3]);
    else count += Number(m[3]);
  }
  return { sum, count };
}

function labelsOf(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** The series of the breakdown: what each one measures is said where it is printed (main.ts). */
export const BREAKDOWN = {
  /** whole POST /pods inside the apiserver (includes webhook calls) */
  request: ['apiserver_request_duration_seconds', { verb: 'POST', resource: 'pods' }],
  /** the same without the time spent in webhook calls (the apiserver's SLI histogram) */
  requestSli: ['apiserver_request_sli_duration_seconds', { verb: 'POST', resource: 'pods' }],
  /** each mutating webhook call, as the apiserver times it (send, wait, receive, decode) */
  webhookAdmit: ['apiserver_admission_webhook_admission_duration_seconds', { type: 'admit', operation: 'CREATE' }],
  /** the whole mutating admission step (in-tree plugins, webhooks, patch application, reinvocation) */
  admitStep: ['apiserver_admission_step_admission_duration_seconds', { type: 'admit', operation: 'CREATE' }],
  /** the whole validating admission step (ValidatingAdmissionPolicy, validating webhooks) */
  validateStep: ['apiserver_admission_step_admission_duration_seconds', { type: 'validate', operation: 'CREATE' }],
  /** the ValidatingAdmissionPolicy plugin (CEL evaluation of every policy bound to the request) */
  vapCheck: [
    'apiserver_admission_controller_admission_duration_seconds',
    { name: 'ValidatingAdmissionPolicy', type: 'validate', operation: 'CREATE' },
  ],
  /** the etcd write of pods */
  etcdCreate: ['etcd_request_duration_seconds', { operation: 'create', resource: 'pods' }],
} as const satisfies Record<string, readonly [string, Record<string, string>]>;

export type Breakdown = Record<keyof typeof BREAKDOWN, { sum: number; count: number }>;

export function breakdownOf(text: string): Breakdown {
  const out = {} as Breakdown;
  for (const [k, [name, match]] of Object.entries(BREAKDOWN)) out[k as keyof Breakdown] = sumCount(text, name, match);
  return out;
}

/** after - before, per series. */
export function breakdownDelta(after: Breakdown, before: Breakdown): Breakdown {
  const out = {} as Breakdown;
  for (const k of Object.keys(after) as (keyof Breakdown)[]) {
    out[k] = { sum: after[k].sum - before[k].sum, count: after[k].count - before[k].count };
  }
  return out;
}

/** Milliseconds of series `k` per create over `creates` creates (0 when nothing was recorded). */
export const msPerCreate = (d: Breakdown, k: keyof Breakdown, creates: number) =>
  creates > 0 ? (d[k].sum * 1000) / creates : NaN;
