import { INIT_BINARY } from '../../../../src/common/constants.js';
import type { V1Container } from '@kubernetes/client-node';
import { unwrap, wrapContainer } from '../../../../src/webhook/mutation/wrapper.js';
import { context, profileInfo } from '../fixtures.js';

const web = profileInfo('web');
const ctx = context({
  entrypoints: { img: { ok: true, entrypoint: ['/entry'], cmd: ['serve'] }, bad: { ok: false, error: 'timeout' } },
});
const where = 'container "a"';

describe('wrapper', () => {
  test("the container's command behind podfence-init and its options; args folded in; the wrapper mounted", () => {
    const c: V1Container = {
      name: 'a',
      command: ['/app'],
      args: ['--port', '80'],
      volumeMounts: [
        { name: 'cfg', mountPath: '/cfg', readOnly: true },
        { name: 'data', mountPath: '/data' },
      ],
    };
    const w = wrapContainer(c, web, ctx, where);
    expect(w).toMatchObject({ wrapped: true, landlockSkipped: false, denials: [], warnings: [] });
    expect(w.container.command).toEqual([
      '/podfence/podfence-init',
      '--ro',
      '/etc',
      '--ro',
      '/cfg',
      '--rw',
      '/data',
      '--exec',
      '/podfence',
      '--',
      '/app',
      '--port',
      '80',
    ]);
    expect(w.container.args).toBeUndefined();
    expect(w.container.volumeMounts).toEqual([
      ...c.volumeMounts!,
      { name: 'podfence-init', mountPath: '/podfence', readOnly: true },
    ]);
    expect(c.command).toEqual(['/app']); // the input is not changed
  });

  test('rewrapping a wrapped container gives the same container', () => {
    const once = wrapContainer({ name: 'a', command: ['/app'] }, web, ctx, where).container;
    expect(unwrap(once)).toEqual(['/app']);
    expect(wrapContainer(once, web, ctx, where).container).toEqual(once);
  });

  test('trustVolumes false: volume directories are not granted', () => {
    const w = wrapContainer(
      { name: 'a', command: ['/app'], volumeMounts: [{ name: 'd', mountPath: '/data' }] },
      profileInfo('web', { trustVolumes: false }),
      ctx,
      where,
    );
    expect(w.container.command).not.toContain('/data');
  });

  test('the image entrypoint when the container has no command', () => {
    const w = wrapContainer({ name: 'img', image: 'r/img:1' }, web, ctx, 'container "img"');
    expect(w.container.command!.slice(-3)).toEqual(['--', '/entry', 'serve']);
  });

  test('an unresolved entrypoint: denied, or skipped with a warning (policy)', () => {
    const denied = wrapContainer({ name: 'bad', image: 'r/bad:1' }, web, ctx, 'container "bad"');
    expect(denied.denials[0]).toMatch(/could not read the entrypoint of image "r\/bad:1" \(timeout\); set "command"/);
    expect(denied.wrapped).toBe(false);
    const skip = { ...ctx, policy: { ...ctx.policy, onUnresolvedEntrypoint: 'skip-landlock' as const } };
    const skipped = wrapContainer({ name: 'bad', image: 'r/bad:1' }, web, skip, 'container "bad"');
    expect(skipped).toMatchObject({ wrapped: false, landlockSkipped: true, denials: [] });
    expect(skipped.warnings[0]).toMatch(/Admitted WITHOUT Landlock \(policy skip-landlock\)$/);
  });

  test('an image with neither ENTRYPOINT nor CMD is denied', () => {
    const c = context({ entrypoints: { e: { ok: true, entrypoint: [], cmd: [] } } });
    expect(wrapContainer({ name: 'e', image: 'r/e' }, web, c, 'container "e"').denials).toEqual([
      'container "e": image "r/e" has neither ENTRYPOINT nor CMD; set "command"',
    ]);
  });

  test('audit mode (no options): no wrapper, and an earlier one is taken off', () => {
    const audit = profileInfo('audit', { mode: 'audit', landlockArgs: () => [] });
    const wrapped = wrapContainer({ name: 'a', command: ['/app'], args: ['x'] }, web, ctx, where).container;
    const w = wrapContainer(wrapped, audit, ctx, where);
    expect(w).toMatchObject({ wrapped: false, landlockSkipped: true });
    expect(w.container.command).toEqual(['/app', 'x']);
    expect(w.container.volumeMounts).toBeUndefined();
  });

  test('exec probes and exec lifecycle hooks get the same wrapper (idempotent; audit takes it off)', () => {
    const input = {
      name: 'a',
      command: ['/app'],
      readinessProbe: { exec: { command: ['check', '-q'] }, periodSeconds: 3 },
      livenessProbe: { httpGet: { path: '/', port: 80 } },
      lifecycle: { postStart: { exec: { command: ['warm'] } }, preStop: { exec: { command: ['drain'] } } },
    };
    const w = wrapContainer(input, web, ctx, where).container;
    const options = w.command!.slice(1, w.command!.indexOf('--'));
    expect(w.readinessProbe).toEqual({
      exec: { command: [INIT_BINARY, ...options, '--', 'check', '-q'] },
      periodSeconds: 3,
    });
    expect(w.livenessProbe).toEqual({ httpGet: { path: '/', port: 80 } });
    expect(w.lifecycle?.postStart?.exec?.command).toEqual([INIT_BINARY, ...options, '--', 'warm']);
    expect(w.lifecycle?.preStop?.exec?.command).toEqual([INIT_BINARY, ...options, '--', 'drain']);
    expect(input.readinessProbe.exec.command).toEqual(['check', '-q']); // the input is not changed
    expect(wrapContainer(w, web, ctx, where).container).toEqual(w);
    const audit = profileInfo('audit', { mode: 'audit', landlockArgs: () => [] });
    const un = wrapContainer(w, audit, ctx, where).container;
    expect(un.readinessProbe?.exec?.command).toEqual(['check', '-q']);
    expect(un.lifecycle?.postStart?.exec?.command).toEqual(['warm']);
  });
});
