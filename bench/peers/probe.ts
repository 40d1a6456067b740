// Which failures of a probe pod create (dry run) mean "not ready yet" rather than "broken": right after start-up a
// namespace may still lack its `default` ServiceAccount (ServiceAccount admission refuses the pod), and a peer may
// register its webhook before it serves it (Kyverno writes its generated TLS pair a few seconds after it listens:
// the apiserver then reports "failed calling webhook ... tls: internal error"). Anything else is a real failure.
export function probeNotReady(message: string): 'serviceaccount' | 'webhook' | undefined {
  if (/failed calling webhook/i.test(message)) return 'webhook';
  if (/service ?account/i.test(message)) return 'serviceaccount';
  return undefined;
}
