import http from 'node:http';
import https from 'node:https';
import { toAccess, type KubeAccess, type KubeConnection } from './access.js';

// A small JSON client for the apiserver: requests, paginated lists and watch streams over one keep-alive agent.
// Objects come back as the apiserver's plain JSON (no client-node model classes). Failures throw `KubeHttpError`
// with the HTTP status as `code` and the apiserver's Status as `body`, so src/kube/errors.ts reads them like
// client-node's ApiException.

export class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: unknown,
    method: string,
    path: string,
  ) {
    const message = (body as { message?: string } | undefined)?.message;
    super(`${method} ${path}: HTTP ${code}${message ? `: ${message}` : ''}`);
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface ListPage<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type WatchEventHandler = (type: string, object: unknown) => void;

export const MERGE_PATCH = 'application/merge-patch+json';
/** Ask for objects as metadata only (PartialObjectMetadata): for caches that read nothing else. */
export const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
export const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
export const JSON_PATCH = 'application/json-patch+json';

export function pathWithQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

export class KubeRest {
  readonly access: KubeAccess;

  constructor(conn: KubeConnection) {
    this.access = toAccess(conn);
  }

  /** One request; resolves to the parsed JSON body. `contentType` defaults to JSON (PATCH: JSON patch). */
  async request<T>(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; contentType?: string; timeoutMs?: number; accept?: string } = {},
  ): Promise<T> {
    const res = await this.open(method, pathWithQuery(path, opts.query), { timeoutMs: 60_000, ...opts });
    const text = await readAll(res);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    if ((res.statusCode ?? 0) >= 300) throw new KubeHttpError(res.statusCode ?? 0, body, method, path);
    return body as T;
  }

  /**
   * A whole collection, `pageSize` objects per request, each page handed to `transform` before the next is read:
   * 10,000 pods never sit in memory whole, only their transformed copies. Small pages keep the transient small: 500
   * kwok Nodes with 100 labels are 6.5 MB of JSON, some 40 MB while parsed.
   */
  async list<T, U = T>(
    path: string,
    query: Query = {},
    transform: (obj: T) => U = (o) => o as unknown as U,
    opts: { pageSize?: number; metadataOnly?: boolean } = {},
  ): Promise<{ metadata: { resourceVersion?: string }; items: U[] }> {
    const pageSize = opts.pageSize ?? 100;
    const accept = opts.metadataOnly ? METADATA_LIST : undefined;
    const items: U[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.request<ListPage<T>>('GET', path, {
        query: { ...query, limit: pageSize, continue: cont },
        accept,
      });
      for (const o of page.items ?? []) items.push(transform(o));
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (cont);
    return { metadata: { resourceVersion }, items };
  }

  /**
   * A watch stream: `onEvent(type, object)` per line, `onDone(err?)` once when it ends for any reason. Resolves once
   * connected (status 200) to a function that aborts it; rejects on a non-200 answer.
   */
  async watch(
    path: string,
    query: Query,
    onEvent: WatchEventHandler,
    onDone: (err?: unknown) => void,
    opts: { metadataOnly?: boolean } = {},
  ) {
    const res = await this.open('GET', pathWithQuery(path, { ...query, watch: true }), {
      accept: opts.metadataOnly ? METADATA_ONLY : undefined,
    });
    if (res.statusCode !== 200) {
      const text = await readAll(res).catch(() => '');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      throw new KubeHttpError(res.statusCode ?? 0, body, 'WATCH', path);
    }
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      res.destroy();
      onDone(err);
    };
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while (!done && (nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        let event: { type?: string; object?: unknown };
        try {
          event = JSON.parse(line) as { type?: string; object?: unknown };
        } catch (err) {
          finish(new Error(`watch ${path}: unparsable line (${(err as Error).message})`));
          return;
        }
        onEvent(event.type ?? '', event.object);
      }
    });
    res.on('end', () => finish());
    res.on('error', (err) => finish(err));
    res.on('close', () => finish());
    return () => finish();
  }

  private async open(
    method: string,
    pathAndQuery: string,
    opts: { body?: unknown; contentType?: string; timeoutMs?: number; accept?: string },
  ): Promise<http.IncomingMessage> {
    const { server, agent } = this.access;
    const url = new URL(server + pathAndQuery);
    const headers: Record<string, string> = {
      Accept: opts.accept ?? 'application/json',
      ...(await this.access.headers()),
    };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = opts.contentType ?? (method === 'PATCH' ? JSON_PATCH : 'application/json');
      headers['Content-Length'] = String(payload.length);
    }
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, agent, headers }, resolve);
      req.on('error', reject);
      if (opts.timeoutMs)
        req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.end(payload);
    });
  }
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
