// The pure pieces of `npm run bench:peers` and `npm run bench:scale` (the benchmarks themselves are not tests).
import { benchPod, podCreateReview, reviewOutcome } from '../../../bench/peers/review.js';
import { establishedRemotePorts, listeningInodes } from '../../../bench/peers/procfs.js';
import { breakdownDelta, breakdownOf, msPerCreate, sumCount } from '../../../bench/peers/apiserver-metrics.js';
import { probeNotReady } from '../../../bench/peers/probe.js';
import { chartNodeOptions } from '../../../bench/scale/node-options.js';
import { alternatingPairs, interleave, roundOrder } from '../../../bench/peers/schedule.js';
import { selectorMatches, webhooksForPodCreate } from '../../../bench/peers/selectors.js';
import {
  cpuMsPerRequest,
  cpuTicksFromStat,
  peersLastLine,
  histogramQuantile,
  parseHistogram,
  bucketDelta,
  percentile,
  rssBytesFromStatus,
  scaleLastLine,
  summarize,
} from '../../../bench/peers/stats.js';

describe('stats', () => {
  test('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(summarize([1, 2, 3, 10])).toEqual({ n: 4, p50: 2, p99: 10, mean: 4, max: 10 });
  });

  test('CPU ticks from /proc/<pid>/stat, with a command name containing spaces and parentheses', () => {
    // fields 14/15 (utime, stime) = 1234, 567
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 11 0 100 0 0';
    expect(cpuTicksFromStat(stat)).toBe(1801);
    expect(() => cpuTicksFromStat('garbage')).toThrow(/no "\)"/);
    expect(cpuMsPerRequest(1000, 1050, 1000)).toBeCloseTo(0.5); // 50 ticks = 500 ms over 1000 requests
    expect(cpuMsPerRequest(0, 10, 0)).toBeNaN();
  });

  test('RSS from /proc/<pid>/status', () => {
    expect(rssBytesFromStatus('Name:\tnode\nVmRSS:\t  102400 kB\nThreads: 7\n')).toBe(100 * 1024 * 1024);
    expect(() => rssBytesFromStatus('Name: x\n')).toThrow(/VmRSS/);
  });

  test('last lines', () => {
    expect(
      peersLastLine(0.25, [
        { name: 'pepr', ms: 1.1 },
        { name: 'gatekeeper', ms: 3 },
        { name: 'broken', ms: NaN },
      ]),
    ).toBe('peers: podfence 0.25 ms/admission, best peer pepr 1.10 ms, ratio 4.40');
    expect(
      scaleLastLine({
        nodes: 1000,
        pods: 10000,
        controllerMiB: 88.4,
        webhookMiB: 120.6,
        applyToReadySeconds: 12.34,
        admissionP99Ms: 8,
      }),
    ).toBe(
      'scale: 1000 nodes, 10000 pods: controller 88 MiB, webhook 121 MiB, apply->Ready 12.3 s, admission p99 8.0 ms',
    );
  });
});

describe('schedule', () => {
  test('each round is a rotation, so every peer takes every position once per len(peers) rounds', () => {
    const peers = ['a', 'b', 'c'];
    expect(roundOrder(peers, 0)).toEqual(['a', 'b', 'c']);
    expect(roundOrder(peers, 1)).toEqual(['b', 'c', 'a']);
    expect(roundOrder(peers, 5)).toEqual(['c', 'a', 'b']);
    const steps = interleave(peers, 3);
    expect(steps).toHaveLength(9);
    for (const p of peers) {
      const positions = steps.filter((s) => s.item === p).map((s) => steps.indexOf(s) % 3);
      expect(new Set(positions).size).toBe(3);
    }
    expect(roundOrder([], 2)).toEqual([]);
  });

  test('pod-create pairs alternate which side goes first', () => {
    expect(alternatingPairs(4)).toEqual([
      ['with', 'without'],
      ['without', 'with'],
      ['with', 'without'],
      ['without', 'with'],
    ]);
  });
});

describe('selectors', () => {
  const labels = { 'bench.podfence.dev/peer': 'gatekeeper', 'kubernetes.io/metadata.name': 'bench-gatekeeper' };
  test('label selector semantics', () => {
    expect(selectorMatches(undefined, labels)).toBe(true);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { 'bench.podfence.dev/peer': 'gatekeeper' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { 'bench.podfence.dev/peer': 'pepr' } }, labels)).toBe(false);
    const ex = (operator: string, values?: string[]) => ({
      matchExpressions: [{ key: 'bench.podfence.dev/peer', operator, values }],
    });
    expect(selectorMatches(ex('In', ['pepr', 'gatekeeper']), labels)).toBe(true);
    expect(selectorMatches(ex('In', ['pepr']), labels)).toBe(false);
    expect(selectorMatches(ex('NotIn', ['gatekeeper']), labels)).toBe(false);
    expect(selectorMatches(ex('NotIn', ['gatekeeper']), {})).toBe(true);
    expect(selectorMatches(ex('Exists'), labels)).toBe(true);
    expect(selectorMatches(ex('Exists'), {})).toBe(false);
    expect(selectorMatches(ex('DoesNotExist'), {})).toBe(true);
    expect(() => selectorMatches(ex('Gt'), labels)).toThrow(/unknown operator "Gt"/);
  });

  test('webhooks a pod create reaches: rules and namespaceSelector both count', () => {
    const podCreate = { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] };
    const configs = [
      {
        metadata: { name: 'gk' },
        webhooks: [
          {
            name: 'm',
            rules: [podCreate],
            namespaceSelector: { matchLabels: { 'bench.podfence.dev/peer': 'gatekeeper' } },
          },
        ],
      },
      {
        metadata: { name: 'pepr' }, // Pepr's default: every namespace but its own and kube-system
        webhooks: [
          {
            name: 'w',
            rules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*'] }],
            namespaceSelector: {
              matchExpressions: [
                { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'pepr-system'] },
              ],
            },
          },
        ],
      },
      {
        metadata: { name: 'deploys-only' },
        webhooks: [{ name: 'd', rules: [{ ...podCreate, resources: ['deployments'] }] }],
      },
      {
        metadata: { name: 'updates-only' },
        webhooks: [{ name: 'u', rules: [{ ...podCreate, operations: ['UPDATE'] }] }],
      },
    ];
    expect(webhooksForPodCreate(configs, labels)).toEqual(['gk/m', 'pepr/w']);
    expect(webhooksForPodCreate(configs, { 'kubernetes.io/metadata.name': 'kube-system' })).toEqual([]);
  });
});

describe('review and procfs parsing', () => {
  test('the review carries the pod in the given namespace and the response is decoded', () => {
    const review = JSON.parse(podCreateReview(benchPod('x'), 'bench-pepr')) as {
      request: { namespace: string; operation: string; object: { metadata: { namespace: string; name: string } } };
    };
    expect(review.request.namespace).toBe('bench-pepr');
    expect(review.request.object.metadata).toMatchObject({ namespace: 'bench-pepr', name: 'x' });
    expect(review.request.operation).toBe('CREATE');
    const patch = Buffer.from(
      JSON.stringify([
        { op: 'add', path: '/a', value: 1 },
        { op: 'remove', path: '/b' },
      ]),
    );
    expect(
      reviewOutcome(JSON.stringify({ response: { uid: 'u', allowed: true, patch: patch.toString('base64') } })),
    ).toEqual({ allowed: true, ops: 2, patchBytes: patch.toString('base64').length, message: undefined });
    expect(reviewOutcome(JSON.stringify({ response: { allowed: false, status: { message: 'no' } } }))).toMatchObject({
      allowed: false,
      ops: 0,
      message: 'no',
    });
    expect(() => reviewOutcome('{}')).toThrow(/no .response/);
  });

  test('listening sockets from /proc/net/tcp', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:24E3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0',
      '   1: 0100007F:24E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 20 4 30 10 -1',
      '   2: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0',
    ].join('\n');
    expect(listeningInodes(tcp, 9443)).toEqual(['111']); // 0x24E3; the established one is not a listener
    expect(listeningInodes(tcp, 3000)).toEqual(['333']);
    expect(listeningInodes(tcp, 80)).toEqual([]);
  });
});

describe('histograms', () => {
  const text = [
    '# HELP x_seconds latency',
    'x_seconds_bucket{webhook="/mutate",le="0.001"} 50',
    'x_seconds_bucket{webhook="/mutate",le="0.005"} 90',
    'x_seconds_bucket{webhook="/mutate",le="0.01"} 100',
    'x_seconds_bucket{webhook="/mutate",le="+Inf"} 100',
    'x_seconds_bucket{webhook="/other",le="0.001"} 0',
    'x_seconds_bucket{webhook="/other",le="+Inf"} 0',
    'x_seconds_sum{webhook="/mutate"} 0.2',
    'y_seconds_bucket{le="0.001"} 999',
  ].join('\n');
  test('buckets are parsed and summed over label sets; quantiles interpolate within a bucket', () => {
    const b = parseHistogram(text, 'x_seconds');
    expect(b).toEqual([
      { le: 0.001, count: 50 },
      { le: 0.005, count: 90 },
      { le: 0.01, count: 100 },
      { le: Infinity, count: 100 },
    ]);
    expect(histogramQuantile(b, 0.5)).toBeCloseTo(0.001);
    expect(histogramQuantile(b, 0.7)).toBeCloseTo(0.003); // 20 of the 40 in (1 ms, 5 ms]
    expect(histogramQuantile(b, 0.99)).toBeCloseTo(0.0095);
    expect(histogramQuantile([], 0.5)).toBeNaN();
    const later = b.map((x) => ({ ...x, count: x.count + 10 }));
    expect(bucketDelta(later, b).map((x) => x.count)).toEqual([10, 10, 10, 10]);
  });
});

describe('chartNodeOptions', () => {
  test("a component's nodeOptions as node arguments; none when absent or empty; a non-string is refused", () => {
    const values =
      'controller:\n  nodeOptions: --max-semi-space-size=2  --max-old-space-size=192\nwebhook:\n  nodeOptions: ""\n';
    expect(chartNodeOptions(values, 'controller')).toEqual(['--max-semi-space-size=2', '--max-old-space-size=192']);
    expect(chartNodeOptions(values, 'webhook')).toEqual([]);
    expect(chartNodeOptions('webhook: {}\n', 'webhook')).toEqual([]);
    expect(() => chartNodeOptions('webhook:\n  nodeOptions: 3\n', 'webhook')).toThrow(/webhook.nodeOptions/);
  });
});

describe('probe pod creates', () => {
  test('a missing ServiceAccount or a webhook not served yet is "not ready"; anything else is a failure', () => {
    expect(
      probeNotReady(
        'POST /api/v1/namespaces/bench-kyverno-mpol/pods?dryRun=All: HTTP 500: {"message":"Internal error occurred: failed calling webhook \\"mpol.kyverno.svc\\": ... remote error: tls: internal error"}',
      ),
    ).toBe('webhook');
    expect(
      probeNotReady('HTTP 403: pods "probe" is forbidden: error looking up service account bench-none/default'),
    ).toBe('serviceaccount');
    expect(probeNotReady('HTTP 400: admission webhook "podfence.dev" denied the request: bad profile')).toBeUndefined();
    expect(probeNotReady('HTTP 422: Pod "probe" is invalid: spec.containers[0].image: Required value')).toBeUndefined();
  });
});

describe('apiserver histograms', () => {
  const scrape = (webhookSum: number, webhookCount: number) =>
    [
      '# HELP apiserver_admission_webhook_admission_duration_seconds x',
      '# TYPE apiserver_admission_webhook_admission_duration_seconds histogram',
      `apiserver_admission_webhook_admission_duration_seconds_bucket{name="a",operation="CREATE",rejected="false",type="admit",le="0.005"} 1`,
      `apiserver_admission_webhook_admission_duration_seconds_sum{name="a",operation="CREATE",rejected="false",type="admit"} ${webhookSum}`,
      `apiserver_admission_webhook_admission_duration_seconds_count{name="a",operation="CREATE",rejected="false",type="admit"} ${webhookCount}`,
      'apiserver_admission_webhook_admission_duration_seconds_sum{name="b",operation="CREATE",rejected="true",type="admit"} 1',
      'apiserver_admission_webhook_admission_duration_seconds_count{name="b",operation="CREATE",rejected="true",type="admit"} 1',
      'apiserver_admission_webhook_admission_duration_seconds_sum{name="a",operation="UPDATE",rejected="false",type="admit"} 7',
      'apiserver_admission_webhook_admission_duration_seconds_count{name="a",operation="UPDATE",rejected="false",type="admit"} 7',
      'apiserver_admission_webhook_admission_duration_seconds_sum{name="v",operation="CREATE",rejected="false",type="validating"} 5',
      'apiserver_admission_webhook_admission_duration_seconds_count{name="v",operation="CREATE",rejected="false",type="validating"} 5',
      'apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 0.5',
      'apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 10',
      'apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="GET",version="v1"} 9',
      'etcd_request_duration_seconds_sum{group="",operation="create",resource="pods"} 0.04',
      'etcd_request_duration_seconds_count{group="",operation="create",resource="pods"} 4',
      'etcd_request_duration_seconds_sum{group="",operation="create",resource="events"} 3',
      'etcd_request_duration_seconds_count{group="",operation="create",resource="events"} 30',
      'controller_runtime_webhook_latency_seconds_sum{webhook="/mutate"} 0.002',
      'controller_runtime_webhook_latency_seconds_count{webhook="/mutate"} 2',
    ].join('\n');

  test('sum and count over the series whose labels match, not over similar names or other labels', () => {
    const t = scrape(0.25, 10);
    expect(
      sumCount(t, 'apiserver_admission_webhook_admission_duration_seconds', { type: 'admit', operation: 'CREATE' }),
    ).toEqual({
      sum: 1.25,
      count: 11,
    });
    expect(sumCount(t, 'apiserver_request_duration_seconds', { verb: 'POST', resource: 'pods' })).toEqual({
      sum: 0.5,
      count: 10,
    });
    expect(sumCount(t, 'controller_runtime_webhook_latency_seconds')).toEqual({ sum: 0.002, count: 2 });
    expect(breakdownOf(t).etcdCreate).toEqual({ sum: 0.04, count: 4 }); // pods only, not the scheduler's events
    expect(sumCount(t, 'no_such_histogram')).toEqual({ sum: 0, count: 0 });
  });

  test('a block of creates: the difference of two scrapes, in ms per create', () => {
    const d = breakdownDelta(breakdownOf(scrape(0.45, 20)), breakdownOf(scrape(0.25, 10)));
    expect(d.webhookAdmit.count).toBe(10);
    expect(msPerCreate(d, 'webhookAdmit', 10)).toBeCloseTo(20);
    expect(d.request).toEqual({ sum: 0, count: 0 });
    expect(msPerCreate(d, 'request', 0)).toBeNaN();
  });

  test('established connections to a port from /proc/net/tcp', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1',
      '   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1002 1',
      '   2: 0100007F:1F90 0100007F:C351 06 00000000:00000000 00:00000000 00000000     0        0 0 1',
      '   3: 0100007F:C352 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 1003 1',
    ].join('\n');
    expect(establishedRemotePorts(tcp, 8080)).toEqual([50000]); // not the listener, not TIME_WAIT, not the client side
  });
});
