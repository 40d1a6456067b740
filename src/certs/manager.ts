import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { certMatches, createCA, issueServingCert, msUntilExpiry, type CertPair } from './issue.js';

const DAY = 86_400_000;

export interface ServingCert extends CertPair {
  /** PEM bundle the apiserver must trust (current CA, plus the previous one during a CA rotation). */
  caBundle: string;
}

export interface SelfManagedOptions {
  kubeConfig: KubeConfig;
  /** The operator's namespace (from POD_NAMESPACE, never hard-coded). */
  namespace: string;
  secretName: string;
  /** Service in front of the webhook: the certificate names `<svc>.<ns>.svc` (and the short forms). */
  serviceName: string;
  /** MutatingWebhookConfigurations whose caBundle podfence keeps current. */
  mutatingWebhooks: string[];
  validatingWebhooks?: string[];
  /** Extra SANs (tests serve on 127.0.0.1). */
  ipAddresses?: string[];
  caDays?: number;
  certDays?: number;
  /** Renew when less than this fraction of the lifetime is left. */
  renewFraction?: number;
  log?: Logger;
}

/** Secret keys. */
const K = { caCert: 'ca.crt', caKey: 'ca.key', prevCa: 'ca-previous.crt', cert: 'tls.crt', key: 'tls.key' };

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/**
 * podfence's own PKI: a CA and a serving certificate kept in a Secret in the operator's namespace (shared by
 * every replica: the first to find it missing or due creates it; a write conflict means another replica won, and
 * its result is re-read), the CA written into the webhook configurations' caBundle, both renewed well before
 * expiry. A renewed CA is trusted next to the previous one until the previous one expires, so no request fails
 * during a rotation.
 */
export class SelfManagedCerts {
  private readonly core: CoreV1Api;
  private readonly admission: AdmissionregistrationV1Api;
  private readonly o: Required<Omit<SelfManagedOptions, 'log' | 'ipAddresses' | 'validatingWebhooks'>> &
    SelfManagedOptions;

  constructor(opts: SelfManagedOptions) {
    this.o = { caDays: 3650, certDays: 365, renewFraction: 1 / 3, ...opts };
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.admission = opts.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  }

  get dnsNames(): string[] {
    const { serviceName: s, namespace: n } = this.o;
    return [s, `${s}.${n}`, `${s}.${n}.svc`, `${s}.${n}.svc.cluster.local`];
  }

  /** Makes sure the Secret holds a valid, not-yet-due CA and certificate; returns them. */
  async ensure(now = Date.now()): Promise<ServingCert> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const secret = await this.readSecret();
      const data = secret?.data ?? {};
      let ca: CertPair = { cert: unb64(data[K.caCert]), key: unb64(data[K.caKey]) };
      let prev = unb64(data[K.prevCa]);
      let leaf: CertPair = { cert: unb64(data[K.cert]), key: unb64(data[K.key]) };
      let changed = false;
      if (!ca.cert || !ca.key || this.due(ca.cert, this.o.caDays, now)) {
        if (ca.cert && msUntilExpiry(ca.cert, now) > 0) prev = ca.cert;
        ca = await createCA(`podfence-webhook-ca@${Math.floor(now / 1000)}`, this.o.caDays);
        changed = true;
      }
      if (prev && msUntilExpiry(prev, now) <= 0) {
        prev = '';
        changed = true;
      }
      if (
        changed ||
        !leaf.key ||
        !certMatches(leaf.cert, ca.cert, this.dnsNames[2] ?? '') ||
        this.due(leaf.cert, this.o.certDays, now)
      ) {
        leaf = await issueServingCert(ca, {
          commonName: this.dnsNames[2] ?? this.o.serviceName,
          dnsNames: this.dnsNames,
          ipAddresses: this.o.ipAddresses,
          days: this.o.certDays,
        });
        changed = true;
      }
      const result = { ...leaf, caBundle: prev ? `${ca.cert}${prev}` : ca.cert };
      if (!changed) return result;
      const body: V1Secret = {
        metadata: {
          name: this.o.secretName,
          namespace: this.o.namespace,
          // Keep what others put there (a Helm-created Secret carries Helm's ownership labels and annotations).
          labels: secret?.metadata?.labels ?? { 'app.kubernetes.io/component': 'webhook' },
          ...(secret?.metadata?.annotations ? { annotations: secret.metadata.annotations } : {}),
          ...(secret?.metadata?.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}),
        },
        type: 'Opaque',
        data: {
          [K.caCert]: b64(ca.cert),
          [K.caKey]: b64(ca.key),
          [K.cert]: b64(leaf.cert),
          [K.key]: b64(leaf.key),
          ...(prev ? { [K.prevCa]: b64(prev) } : {}),
        },
      };
      try {
        if (secret)
          await this.core.replaceNamespacedSecret({ name: this.o.secretName, namespace: this.o.namespace, body });
        else await this.core.createNamespacedSecret({ namespace: this.o.namespace, body });
        this.o.log?.info({ secret: `${this.o.namespace}/${this.o.secretName}` }, 'webhook certificate written');
        return result;
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code !== 409) throw err;
        // Another replica wrote first: use its certificate.
      }
    }
    throw new Error(`could not write Secret ${this.o.namespace}/${this.o.secretName}: repeated conflicts`);
  }

  /** Writes `caBundle` into every webhook of the named configurations (only when it differs). */
  async patchCaBundle(caBundle: string): Promise<void> {
    const bundle = b64(caBundle);
    for (const name of this.o.mutatingWebhooks) {
      const cfg = await this.admission.readMutatingWebhookConfiguration({ name });
      if ((cfg.webhooks ?? []).every((w) => w.clientConfig.caBundle === bundle)) continue;
      for (const w of cfg.webhooks ?? []) w.clientConfig.caBundle = bundle;
      await this.admission.replaceMutatingWebhookConfiguration({ name, body: cfg });
      this.o.log?.info({ configuration: name }, 'caBundle updated');
    }
    for (const name of this.o.validatingWebhooks ?? []) {
      const cfg = await this.admission.readValidatingWebhookConfiguration({ name });
      if ((cfg.webhooks ?? []).every((w) => w.clientConfig.caBundle === bundle)) continue;
      for (const w of cfg.webhooks ?? []) w.clientConfig.caBundle = bundle;
      await this.admission.replaceValidatingWebhookConfiguration({ name, body: cfg });
    }
  }

  private due(pem: string, days: number, now: number): boolean {
    return msUntilExpiry(pem, now) < days * DAY * this.o.renewFraction;
  }

  private async readSecret(): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name: this.o.secretName, namespace: this.o.namespace });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }
}

/**
 * Keeps the served certificate current: runs `ensure` + caBundle patch now and every `intervalMs`, calling
 * `onCert` whenever the certificate changes (another replica may have rotated it). Returns a stop function.
 */
export function keepCertsFresh(
  certs: SelfManagedCerts,
  onCert: (c: ServingCert) => void,
  intervalMs: number,
  log?: Logger,
): { first: Promise<ServingCert>; stop: () => void } {
  let last = '';
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const c = await certs.ensure();
    await certs.patchCaBundle(c.caBundle);
    if (c.cert !== last) {
      last = c.cert;
      onCert(c);
    }
    return c;
  };
  const first = tick();
  const loop = () => {
    timer = setTimeout(() => {
      tick()
        .catch((err: unknown) => log?.error({ err: String(err) }, 'certificate refresh failed; retrying'))
        .finally(loop);
    }, intervalMs);
    timer.unref();
  };
  void first.then(loop, () => undefined);
  return { first, stop: () => timer && clearTimeout(timer) };
}

/** cert-manager (or any other issuer) mode: tls.crt/tls.key from a directory, reloaded when they change. */
export function watchCertDir(
  dir: string,
  onCert: (c: CertPair) => void,
  log?: Logger,
): { first: CertPair; stop: () => void } {
  const files = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
  const read = (): CertPair => ({
    cert: readFileSync(files[0] ?? '', 'utf8'),
    key: readFileSync(files[1] ?? '', 'utf8'),
  });
  const first = read();
  let last = first.cert;
  const changed = () => {
    try {
      const c = read();
      if (c.cert === last) return;
      last = c.cert;
      onCert(c);
      log?.info({ dir }, 'serving certificate reloaded');
    } catch (err) {
      log?.warn({ err: String(err), dir }, 'certificate files not readable yet');
    }
  };
  for (const f of files) watchFile(f, { interval: 10_000 }, changed);
  return { first, stop: () => files.forEach((f) => unwatchFile(f, changed)) };
}
