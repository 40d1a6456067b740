// The registry client against real registries (Debian's docker-registry on loopback): public over plain HTTP,
// htpasswd basic auth over TLS with a private CA, an OCI index with several platforms, caching and timeouts.
import { createServer, type Server } from 'node:net';
import { jest } from '@jest/globals';
import { RegistryClient } from '../../src/registry/client.js';
import { credentialsFor, parseDockerConfig } from '../../src/registry/credentials.js';
import { startTestRegistry, type TestRegistry } from '../registry/registry.js';

jest.setTimeout(120_000);

let pub: TestRegistry;
let priv: TestRegistry;
const user = { username: 'puller', password: 'p@ss:word$1' };

beforeAll(async () => {
  [pub, priv] = await Promise.all([startTestRegistry(), startTestRegistry({ tls: true, auth: user })]);
});
afterAll(async () => {
  await Promise.all([pub?.stop(), priv?.stop()]);
});

test('public registry: entrypoint, cmd and user of a pushed image; digest references; cache', async () => {
  const { ref, digest } = await pub.push('app/web', 'v1', {
    entrypoint: ['/bin/web', '--x=$HOME'],
    cmd: ['serve'],
    user: 'nobody',
  });
  const client = new RegistryClient({ plainHttp: [pub.hostPort] });
  const info = await client.resolve(ref);
  expect(info).toEqual({ digest, entrypoint: ['/bin/web', '--x=$HOME'], cmd: ['serve'], user: 'nobody' });
  const byDigest = await client.resolve(`${pub.hostPort}/app/web@${digest}`);
  expect(byDigest.entrypoint).toEqual(['/bin/web', '--x=$HOME']);
  const before = client.stats.requests;
  await client.resolve(ref);
  await client.resolve(`${pub.hostPort}/app/web@${digest}`);
  expect(client.stats.requests).toBe(before);
});

test('a moved tag is seen once its TTL has passed', async () => {
  // A fake clock: the push below may take any time on a loaded machine; only the clock decides expiry.
  let now = 1_000_000;
  const a = await pub.push('app/moving', 'latest', { entrypoint: ['/a'] });
  const client = new RegistryClient({ plainHttp: [pub.hostPort], tagTtlMs: 60_000, now: () => now });
  expect((await client.resolve(a.ref)).entrypoint).toEqual(['/a']);
  await pub.push('app/moving', 'latest', { entrypoint: ['/b'] });
  now += 59_999;
  expect((await client.resolve(a.ref)).entrypoint).toEqual(['/a']);
  now += 2;
  expect((await client.resolve(a.ref)).entrypoint).toEqual(['/b']);
});

test('OCI index: the configured platform is picked', async () => {
  const amd = await pub.push('app/multi', 'amd64', { entrypoint: ['/amd64'], architecture: 'amd64' });
  const arm = await pub.push('app/multi', 'arm64', { entrypoint: ['/arm64'], architecture: 'arm64' });
  await pub.pushIndex('app/multi', 'all', [
    { digest: arm.digest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { digest: amd.digest, platform: { os: 'linux', architecture: 'amd64' } },
  ]);
  const ref = `${pub.hostPort}/app/multi:all`;
  expect((await new RegistryClient({ plainHttp: [pub.hostPort] }).resolve(ref)).entrypoint).toEqual(['/amd64']);
  const arm64 = new RegistryClient({ plainHttp: [pub.hostPort], platform: { os: 'linux', architecture: 'arm64' } });
  expect((await arm64.resolve(ref)).entrypoint).toEqual(['/arm64']);
  const s390 = new RegistryClient({ plainHttp: [pub.hostPort], platform: { os: 'linux', architecture: 's390x' } });
  await expect(s390.resolve(ref)).rejects.toThrow(/no manifest for platform linux\/s390x/);
});

test('TLS + basic auth: credentials from a dockerconfigjson; refused without them; untrusted CA fails', async () => {
  const { ref } = await priv.push('team/api', '1.0', { entrypoint: ['/api'], cmd: [] });
  const config = parseDockerConfig(
    JSON.stringify({
      auths: {
        [`https://${priv.hostPort}`]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') },
      },
    }),
  );
  const creds = credentialsFor([config], priv.hostPort, 'team/api');
  expect(creds).toEqual([user]);
  const client = new RegistryClient({ ca: priv.caPem });
  expect(await client.resolve(ref, creds)).toMatchObject({ entrypoint: ['/api'], cmd: [] });
  // Lazily supplied credentials are asked for only when the registry demands them.
  let asked = 0;
  const lazy = new RegistryClient({ ca: priv.caPem });
  await lazy.resolve(ref, async () => (asked++, creds));
  expect(asked).toBe(1);

  await expect(new RegistryClient({ ca: priv.caPem }).resolve(ref)).rejects.toThrow(
    /registry refused access \(HTTP 401\); no imagePullSecret matches this registry/,
  );
  await expect(
    new RegistryClient({ ca: priv.caPem }).resolve(ref, [{ username: 'puller', password: 'wrong' }]),
  ).rejects.toThrow(/refused access.*with every matching imagePullSecret/);
  await expect(new RegistryClient().resolve(ref, creds)).rejects.toThrow(/self-signed|unable to verify|certificate/i);
});

test('missing image and missing tag are clear errors', async () => {
  const client = new RegistryClient({ plainHttp: [pub.hostPort] });
  await expect(client.resolve(`${pub.hostPort}/nope/nothing:1`)).rejects.toThrow(/manifest 1 not found/);
});

test('a registry that never answers times out within the bound', async () => {
  // Accepts TCP connections and never says anything.
  const silent: Server = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const client = new RegistryClient({ plainHttp: [`127.0.0.1:${port}`], timeoutMs: 300 });
  const started = Date.now();
  await expect(client.resolve(`127.0.0.1:${port}/a/b:c`)).rejects.toThrow(/did not answer within 300 ms/);
  // Only catches a client that waits for the socket forever; generous so a loaded machine cannot trip it.
  expect(Date.now() - started).toBeLessThan(30_000);
  silent.close();
});
