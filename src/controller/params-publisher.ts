import type { Logger } from 'pino';
import { admissionParams, type AdmissionParams, type AdmissionSettings } from '../model/admission-params.js';
import { ADMISSION_PARAMS_KIND, ADMISSION_PARAMS_PLURAL, API_VERSION, GROUP, VERSION } from '../common/constants.js';
import { backoffDelay } from '../kube/backoff.js';
import { isConflict, isNotFound, shortError } from '../kube/errors.js';
import { sameContent } from '../model/same-content.js';
import type { KubeConnection } from '../kube/access.js';
import { KubeRest } from '../kube/rest.js';

export interface ParamsPublisherOptions {
  kubeConfig: KubeConnection;
  log: Logger;
  /** The SandboxAdmissionParams object the sandbox-required policy's binding names as its paramRef. */
  name: string;
  settings: AdmissionSettings;
  /** The current profiles (the controller's informer cache). */
  profiles: () => readonly unknown[];
  /** Refuses writes when this replica no longer leads. */
  assertLeading: () => void;
}

interface ParamsObject {
  metadata?: { name?: string; resourceVersion?: string };
  data?: AdmissionParams;
}

const PARAMS_PATH = `/apis/${GROUP}/${VERSION}/${ADMISSION_PARAMS_PLURAL}`;

/**
 * Keeps the policy's parameter object equal to what the current profiles compile to (src/model/admission-params.ts).
 * One write loop: any number of `schedule()` calls while a write runs give one more pass, so the object always
 * ends at the latest profiles. Runs only on the leader.
 */
export class ParamsPublisher {
  private readonly rest: KubeRest;
  private running = false;
  private dirty = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private active = false;
  private last: AdmissionParams | undefined;

  constructor(private readonly opts: ParamsPublisherOptions) {
    this.rest = new KubeRest(opts.kubeConfig);
  }

  start(): void {
    this.active = true;
    this.last = undefined;
    this.schedule();
  }

  stop(): void {
    this.active = false;
    clearTimeout(this.timer);
  }

  schedule(): void {
    if (!this.active) return;
    this.dirty = true;
    if (!this.running) void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.dirty && this.active) {
        this.dirty = false;
        try {
          await this.publish();
          this.failures = 0;
        } catch (err) {
          this.failures++;
          const delay = backoffDelay(this.failures, { baseMs: 200, maxMs: 10_000 });
          this.opts.log.warn({ err: shortError(err), retryInMs: delay }, 'admission parameters not written');
          clearTimeout(this.timer);
          this.timer = setTimeout(() => this.schedule(), delay);
          this.timer.unref?.();
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async publish(): Promise<void> {
    const { name } = this.opts;
    const data = admissionParams(this.opts.profiles(), this.opts.settings);
    if (this.last && sameContent(this.last, data)) return;
    let current: ParamsObject | undefined;
    try {
      current = await this.rest.request<ParamsObject>('GET', `${PARAMS_PATH}/${name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (current && sameContent(current.data ?? {}, data)) {
      this.last = data;
      return;
    }
    this.opts.assertLeading();
    const body = { apiVersion: API_VERSION, kind: ADMISSION_PARAMS_KIND, metadata: { name }, data };
    try {
      if (!current) await this.rest.request('POST', PARAMS_PATH, { body });
      else {
        await this.rest.request('PUT', `${PARAMS_PATH}/${name}`, {
          body: { ...body, metadata: { name, resourceVersion: current.metadata?.resourceVersion } },
        });
      }
    } catch (err) {
      // Someone else wrote in between: read again on the next pass.
      if (isConflict(err)) {
        this.dirty = true;
        return;
      }
      throw err;
    }
    this.last = data;
    this.opts.log.info({ params: name, keys: Object.keys(data).length }, 'admission parameters');
  }
}
