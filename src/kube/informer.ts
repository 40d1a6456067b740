import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeConnection } from './access.js';
import { KubeRest } from './rest.js';
import { backoffDelay, jitter, type BackoffOptions } from './backoff.js';
import { shortError, statusCode } from './errors.js';

// A list+watch cache that does not give up. client-node's own informer stops for good on most watch errors and
// has been seen to stop silently, so this one owns the loop: list, then watch from the list's resourceVersion;
// a watch that ends is resumed from the last resourceVersion, `410 Gone` relists, any error relists after an
// exponential backoff, and a watch with no traffic (events or bookmarks) for `staleAfterMs` is torn down and
// relisted. A relist diffs against the cache, so handlers see add/update/delete exactly as from a watch.
// `health()` is what /readyz reports.

export interface ListResult<T> {
  metadata?: { resourceVersion?: string };
  items: T[];
}

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and readiness messages. */
  name: string;
  kubeConfig: KubeConnection;
  /** Collection path for the watch, e.g. `/api/v1/pods` or `/apis/podfence.dev/v1alpha1/sandboxprofiles`. */
  path: string;
  list: (selectors: { fieldSelector?: string; labelSelector?: string }) => Promise<ListResult<T>>;
  fieldSelector?: string;
  labelSelector?: string;
  /** No watch traffic for this long: restart. The apiserver sends bookmarks about once a minute. */
  staleAfterMs?: number;
  /** Server-side watch timeout (jittered); the watch is then resumed without a relist. */
  watchTimeoutSeconds?: number;
  /** Full relist at least this often, whatever the watch says (safety net against silent loss). */
  relistEveryMs?: number;
  backoff?: BackoffOptions;
  /** Watch metadata only (PartialObjectMetadata): for caches that read nothing but metadata. */
  metadataOnly?: boolean;
  /** Shrink each object before it is cached (e.g. keep only the pod fields a controller reads). */
  transform?: (obj: T) => T;
  log?: Logger;
}

export type InformerEvent = 'add' | 'update' | 'delete';
type Handler<T> = (obj: T, old?: T) => void;

export function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name}` : (obj.metadata?.name ?? '');
}

type WatchEnd = { kind: 'ended' } | { kind: 'gone' } | { kind: 'stale' } | { kind: 'error'; error: unknown };

export class ResilientInformer<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: Record<InformerEvent, Handler<T>[]> = { add: [], update: [], delete: [] };
  private readonly syncWaiters: (() => void)[] = [];
  private readonly opts: Required<
    Omit<InformerOptions<T>, 'fieldSelector' | 'labelSelector' | 'log' | 'metadataOnly'>
  > &
    InformerOptions<T>;
  private running = false;
  private synced = false;
  private failing: string | undefined = 'not started';
  private resourceVersion: string | undefined;
  private lastTrafficAt = 0;
  private lastListAt = 0;
  private abortCurrent: ((end: WatchEnd) => void) | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly rest: KubeRest;
  /** Counts restarts by cause, for tests and logs. */
  readonly restarts = { ended: 0, gone: 0, stale: 0, error: 0 };

  constructor(options: InformerOptions<T>) {
    this.opts = {
      staleAfterMs: 150_000,
      watchTimeoutSeconds: 300,
      relistEveryMs: 15 * 60_000,
      backoff: { baseMs: 250, maxMs: 30_000 },
      transform: (o: T) => o,
      ...options,
    };
    this.rest = new KubeRest(options.kubeConfig);
  }

  on(event: InformerEvent, handler: Handler<T>): void {
    this.handlers[event].push(handler);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** `undefined` when the cache is synced and the watch is alive; else why not. */
  health(): string | undefined {
    if (!this.synced) return `${this.opts.name}: not synced (${this.failing ?? 'listing'})`;
    if (this.failing) return `${this.opts.name}: ${this.failing}`;
    const idle = Date.now() - this.lastTrafficAt;
    if (idle > this.opts.staleAfterMs) return `${this.opts.name}: no watch traffic for ${Math.round(idle / 1000)}s`;
    return undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abortCurrent?.({ kind: 'ended' });
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (this.running) {
      try {
        if (needList || Date.now() - this.lastListAt > this.opts.relistEveryMs) {
          await this.relist();
          needList = false;
        }
        const started = Date.now();
        const end = await this.watchOnce();
        if (!this.running) break;
        if (end.kind === 'error') throw end.error;
        this.restarts[end.kind]++;
        if (end.kind !== 'ended') {
          this.opts.log?.warn({ informer: this.opts.name, reason: end.kind }, 'watch restarted with a relist');
          needList = true;
        }
        // A watch that ends at once over and over (e.g. a proxy closing it) must not spin.
        if (Date.now() - started < 1000) await this.sleep(jitter(1000));
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        this.restarts.error++;
        failures++;
        needList = true;
        this.failing = `watch failing: ${errorText(err)}`;
        const delay = jitter(backoffDelay(failures, this.opts.backoff));
        this.opts.log?.warn({ informer: this.opts.name, err: errorText(err), retryInMs: delay }, 'list/watch failed');
        await this.sleep(delay);
      }
    }
  }

  private async relist(): Promise<void> {
    const result = await this.opts.list({
      fieldSelector: this.opts.fieldSelector,
      labelSelector: this.opts.labelSelector,
    });
    this.resourceVersion = result.metadata?.resourceVersion;
    this.lastListAt = this.lastTrafficAt = Date.now();
    const fresh = new Map(result.items.map((o) => [objectKey(o), this.opts.transform(o)] as const));
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
    }
    this.failing = undefined;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let settled = false;
      let request: { abort(): void } | undefined;
      const finish = (end: WatchEnd) => {
        if (settled) return;
        settled = true;
        clearInterval(staleTimer);
        this.abortCurrent = undefined;
        request?.abort();
        resolve(end);
      };
      const staleTimer = setInterval(
        () => {
          if (Date.now() - this.lastTrafficAt > this.opts.staleAfterMs) finish({ kind: 'stale' });
        },
        Math.min(5000, this.opts.staleAfterMs / 2),
      );
      staleTimer.unref?.();
      this.abortCurrent = finish;

      const query: Record<string, string | number | boolean | undefined> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: jitter(this.opts.watchTimeoutSeconds),
        fieldSelector: this.opts.fieldSelector,
        labelSelector: this.opts.labelSelector,
      };
      const onEvent = (type: string, obj: unknown) => {
        if (settled) return;
        this.lastTrafficAt = Date.now();
        this.failing = undefined;
        if (type === 'ERROR') {
          const status = obj as { code?: number; message?: string };
          if (status?.code === 410) finish({ kind: 'gone' });
          else finish({ kind: 'error', error: new Error(`watch error ${status?.code}: ${status?.message}`) });
          return;
        }
        const o = type === 'BOOKMARK' ? (obj as T) : this.opts.transform(obj as T);
        const rv = o?.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === 'BOOKMARK') return;
        const key = objectKey(o);
        if (type === 'DELETED') {
          const old = this.cache.get(key);
          this.cache.delete(key);
          this.emit('delete', old ?? o);
        } else if (type === 'ADDED' || type === 'MODIFIED') {
          const old = this.cache.get(key);
          this.cache.set(key, o);
          this.emit(old ? 'update' : 'add', o, old);
        }
      };
      const onDone = (err: unknown) => {
        if (err && (err as { name?: string }).name !== 'AbortError') finish({ kind: 'error', error: err });
        else finish({ kind: 'ended' });
      };
      this.rest.watch(this.opts.path, query, onEvent, onDone, { metadataOnly: this.opts.metadataOnly }).then(
        (abort) => {
          request = { abort };
          if (settled) abort();
          else {
            // Connected: the stream is live even before the first event.
            this.lastTrafficAt = Date.now();
            this.failing = undefined;
          }
        },
        (err: unknown) => finish(statusCode(err) === 410 ? { kind: 'gone' } : { kind: 'error', error: err }),
      );
    });
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const h of this.handlers[event]) {
      try {
        h(obj, old);
      } catch (err) {
        this.opts.log?.error({ informer: this.opts.name, err: errorText(err) }, 'informer handler threw');
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }
}

export function errorText(err: unknown): string {
  const text = shortError(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  // Network errors carry a string code (ECONNREFUSED, ...) that says more than the message.
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}
