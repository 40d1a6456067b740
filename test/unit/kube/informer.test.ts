// The informer's restart logic against a scripted HTTP server speaking the apiserver's list/watch protocol: the
// only way to produce 410 Gone, a 500 on the watch and a silent connection on demand. (The real apiserver,
// stopped and restarted under a running controller, is exercised in test/integration/controller-restart.)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { ResilientInformer } from '../../../src/kube/informer.js';

interface Script {
  items: KubernetesObject[];
  rv: string;
  listStatus: number;
  watchStatus: number;
  lists: number;
  watches: { rv: string | null; res: http.ServerResponse }[];
}

const obj = (name: string, rv: string): KubernetesObject => ({ metadata: { name, resourceVersion: rv } });
const until = async (cond: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('ResilientInformer', () => {
  let server: http.Server;
  let script: Script;
  let kc: KubeConfig;
  let informer: ResilientInformer<KubernetesObject>;
  const events: string[] = [];

  beforeEach(async () => {
    events.length = 0;
    script = {
      items: [obj('a', '1'), obj('b', '1')],
      rv: '10',
      listStatus: 200,
      watchStatus: 200,
      lists: 0,
      watches: [],
    };
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.searchParams.get('watch') === 'true') {
        if (script.watchStatus !== 200) {
          res.writeHead(script.watchStatus).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        script.watches.push({ rv: url.searchParams.get('resourceVersion'), res });
        return;
      }
      script.lists++;
      if (script.listStatus !== 200) {
        res.writeHead(script.listStatus).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ metadata: { resourceVersion: script.rv }, items: script.items }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    informer = new ResilientInformer<KubernetesObject>({
      name: 'things',
      kubeConfig: kc,
      path: '/api/v1/things',
      list: async () => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/things`);
        if (!r.ok) throw Object.assign(new Error('list failed'), { code: r.status });
        return (await r.json()) as { metadata: { resourceVersion: string }; items: KubernetesObject[] };
      },
      // Only the silence test wants the staleness timer to fire; elsewhere a slow machine must not trip it.
      staleAfterMs: expect.getState().currentTestName?.includes('goes silent') ? 400 : 600_000,
      backoff: { baseMs: 20, maxMs: 100 },
    });
    for (const e of ['add', 'update', 'delete'] as const) {
      informer.on(e, (o) => events.push(`${e}:${o.metadata?.name}`));
    }
  });

  afterEach(async () => {
    await informer.stop();
    for (const w of script.watches) w.res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const send = (type: string, object: unknown) =>
    script.watches.at(-1)!.res.write(JSON.stringify({ type, object }) + '\n');

  it('lists, then watches from the list resourceVersion and applies events', async () => {
    informer.start();
    await informer.waitForSync();
    await until(() => script.watches.length === 1);
    expect(script.watches[0]!.rv).toBe('10');
    expect(events.sort()).toEqual(['add:a', 'add:b']);
    send('ADDED', obj('c', '11'));
    send('MODIFIED', obj('a', '12'));
    send('DELETED', obj('b', '13'));
    await until(() => events.length === 5);
    expect(events.slice(2)).toEqual(['add:c', 'update:a', 'delete:b']);
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(informer.health()).toBeUndefined();
  });

  it('resumes a cleanly ended watch from the last resourceVersion without relisting', async () => {
    informer.start();
    await until(() => script.watches.length === 1);
    send('MODIFIED', obj('a', '15'));
    send('BOOKMARK', { metadata: { resourceVersion: '20' } });
    await until(() => events.includes('update:a'));
    script.watches[0]!.res.end();
    await until(() => script.watches.length === 2);
    expect(script.watches[1]!.rv).toBe('20');
    expect(script.lists).toBe(1);
  });

  it('relists on 410 Gone and reports the difference as events', async () => {
    informer.start();
    await until(() => script.watches.length === 1);
    script.items = [obj('b', '30'), obj('d', '30')];
    script.rv = '30';
    send('ERROR', { kind: 'Status', code: 410, message: 'too old resource version' });
    await until(() => script.watches.length === 2);
    expect(script.lists).toBe(2);
    expect(script.watches[1]!.rv).toBe('30');
    expect(events.slice(2).sort()).toEqual(['add:d', 'delete:a', 'update:b']);
    expect(informer.restarts.gone).toBe(1);
  });

  it('keeps retrying with backoff while the server fails, reports unready, and recovers', async () => {
    informer.start();
    await until(() => script.watches.length === 1);
    script.listStatus = 500;
    script.watchStatus = 500;
    script.watches[0]!.res.destroy();
    await until(() => informer.health() !== undefined);
    await until(() => script.lists >= 3);
    expect(informer.health()).toMatch(/things: watch failing/);
    script.listStatus = 200;
    script.watchStatus = 200;
    script.items = [obj('a', '40')];
    script.rv = '40';
    await until(() => informer.health() === undefined && script.watches.length === 2);
    expect(events).toContain('delete:b');
    expect(informer.restarts.error).toBeGreaterThanOrEqual(2);
  });

  it('tears down a watch that goes silent and relists', async () => {
    informer.start();
    await until(() => script.watches.length === 1);
    // The connection stays open but nothing arrives: the staleness timer must fire.
    await until(() => script.watches.length === 2);
    expect(informer.restarts.stale).toBeGreaterThanOrEqual(1);
    expect(script.lists).toBe(2);
  });
});
