// Which admission webhooks a pod create in a namespace reaches: checked before the apiserver runs, so a peer's
// webhook never sits in the path of another peer's namespace or of the "no webhook" baseline.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label selector semantics; an absent or empty selector matches everything. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`label selector: unknown operator "${e.operator}" for key "${e.key}"`);
    }
  }
  return true;
}

export interface WebhookRule {
  apiGroups?: string[];
  apiVersions?: string[];
  operations?: string[];
  resources?: string[];
}

export interface Webhook {
  name: string;
  rules?: WebhookRule[];
  namespaceSelector?: LabelSelector;
}

export interface WebhookConfiguration {
  kind?: string;
  metadata?: { name?: string };
  webhooks?: Webhook[];
}

const anyOf = (list: string[] | undefined, ...wanted: string[]) =>
  (list ?? []).some((x) => x === '*' || wanted.includes(x));

/** Does a rule cover `CREATE pods` in the core group (v1)? */
export function ruleCoversPodCreate(r: WebhookRule): boolean {
  return (
    anyOf(r.apiGroups, '') && anyOf(r.apiVersions, 'v1') && anyOf(r.operations, 'CREATE') && anyOf(r.resources, 'pods')
  );
}

/** "<configuration>/<webhook>" of every webhook a pod create in a namespace with these labels is sent to. */
export function webhooksForPodCreate(
  configs: readonly WebhookConfiguration[],
  namespaceLabels: Record<string, string>,
): string[] {
  const out: string[] = [];
  for (const c of configs) {
    for (const w of c.webhooks ?? []) {
      if ((w.rules ?? []).some(ruleCoversPodCreate) && selectorMatches(w.namespaceSelector, namespaceLabels)) {
        out.push(`${c.metadata?.name ?? '?'}/${w.name}`);
      }
    }
  }
  return out;
}
