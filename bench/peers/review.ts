// The AdmissionReview every server gets in the direct runs: the same pod (as the apiserver hands it to webhooks:
// defaulted, with the ServiceAccount token volume) in the namespace that peer's policy matches.

export function podCreateReview(pod: object, namespace: string, uid = '705ab4f5-6393-11e8-b7cc-42010a800002'): string {
  const p = structuredClone(pod) as { metadata?: Record<string, unknown> };
  p.metadata = { ...(p.metadata ?? {}), namespace };
  const gvk = { group: '', version: 'v1', kind: 'Pod' };
  const gvr = { group: '', version: 'v1', resource: 'pods' };
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: (p.metadata.name as string | undefined) ?? 'bench',
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'bench-admin', groups: ['system:masters', 'system:authenticated'] },
      object: p,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  });
}

/** The bench pod: 3 containers with an explicit `command` (the peers cannot resolve image entrypoints). */
export function benchPod(name = 'bench'): object {
  const commands = [['/usr/sbin/nginx', '-g', 'daemon off;'], ['/app/server'], ['/bin/sh', '-c', 'exec sidecar $PORT']];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench' } },
    spec: {
      containers: commands.map((command, i) => ({
        name: `c${i}`,
        image: `registry.invalid/bench/img${i}:v1`,
        command,
        ports: [{ containerPort: 8080 + i }],
        env: [{ name: 'MODE', value: 'prod' }],
        volumeMounts: [{ name: 'cfg', mountPath: `/etc/c${i}`, readOnly: true }],
      })),
      volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
    },
  };
}

/** Parses an AdmissionReview response body: allowed, patch op count, base64 patch size, message. */
export function reviewOutcome(body: string): { allowed: boolean; ops: number; patchBytes: number; message?: string } {
  const r = (JSON.parse(body) as { response?: { allowed?: boolean; patch?: string; status?: { message?: string } } })
    .response;
  if (!r) throw new Error('AdmissionReview response has no .response');
  const ops = r.patch ? (JSON.parse(Buffer.from(r.patch, 'base64').toString()) as unknown[]).length : 0;
  return { allowed: r.allowed === true, ops, patchBytes: r.patch?.length ?? 0, message: r.status?.message };
}
