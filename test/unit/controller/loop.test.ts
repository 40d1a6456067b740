import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ReconcileLoop, type Reconciler } from '../../../src/controller/loop.js';
import { controllerMetrics } from '../../../src/controller/metrics.js';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not reached');
}

describe('ReconcileLoop', () => {
  test('keys wait for the caches, then reach the reconciler once per add; metrics carry its name', async () => {
    const registry = new Registry();
    const seen: string[] = [];
    const reconciler: Reconciler<'a' | 'b'> = {
      name: 'things',
      reconcile: async (key) => {
        seen.push(key);
      },
    };
    let synced = false;
    const loop = new ReconcileLoop(reconciler, {
      metrics: controllerMetrics(registry),
      log: pino({ level: 'silent' }),
      concurrency: 1,
      cachesSynced: () => synced,
    });
    loop.add('a'); // not started: dropped
    loop.start();
    loop.add('a');
    loop.add('b');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    synced = true;
    await until(() => seen.length === 2);
    expect(seen.sort()).toEqual(['a', 'b']);
    await loop.stop();
    loop.add('a'); // stopped: dropped
    const text = await registry.metrics();
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="things",result="success"\} 2/);
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="things",result="requeue_after"\} [1-9]/);
    expect(seen).toHaveLength(2);
  });
});
