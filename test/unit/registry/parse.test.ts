import { parseChallenge, pickPlatform } from '../../../src/registry/client.js';
import { credentialsFor, parseDockerConfig, type DockerConfig } from '../../../src/registry/credentials.js';
import { apiHost, parseImageRef } from '../../../src/registry/reference.js';

describe('parseImageRef', () => {
  test.each([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
    ['nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }],
    ['user/app', { registry: 'docker.io', repository: 'user/app', tag: 'latest' }],
    ['ghcr.io/o/r/x:v1', { registry: 'ghcr.io', repository: 'o/r/x', tag: 'v1' }],
    ['localhost/podfence/init:dev', { registry: 'localhost', repository: 'podfence/init', tag: 'dev' }],
    ['127.0.0.1:5000/a/b', { registry: '127.0.0.1:5000', repository: 'a/b', tag: 'latest' }],
    [`r.io/a@sha256:${'a'.repeat(64)}`, { registry: 'r.io', repository: 'a', digest: `sha256:${'a'.repeat(64)}` }],
    [
      `r.io/a:t@sha256:${'b'.repeat(64)}`,
      { registry: 'r.io', repository: 'a', tag: 't', digest: `sha256:${'b'.repeat(64)}` },
    ],
  ])('%s', (image, want) => {
    expect(parseImageRef(image)).toEqual(want);
  });
  test.each(['', 'UPPER/case', 'a b', 'r.io/a@sha256:short', 'r.io/a:bad/tag:x:'])('rejects %j', (image) => {
    expect(() => parseImageRef(image)).toThrow(/invalid/);
  });
  test('Docker Hub is served from registry-1.docker.io', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('r.io:5000')).toBe('r.io:5000');
  });
});

describe('credentials', () => {
  const auth = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString('base64');
  test('dockerconfigjson: auth or username/password; dockercfg; unusable entries skipped', () => {
    expect(
      parseDockerConfig(
        JSON.stringify({
          auths: { 'r.io': { auth: auth('u', 'p:w') }, 'q.io': { username: 'a', password: 'b' }, 'x.io': {} },
        }),
      ),
    ).toEqual({ 'r.io': { username: 'u', password: 'p:w' }, 'q.io': { username: 'a', password: 'b' } });
    expect(parseDockerConfig(JSON.stringify({ 'https://old.io': { auth: auth('o', 'p') } }))).toEqual({
      'https://old.io': { username: 'o', password: 'p' },
    });
  });
  test('matching like the kubelet: host and port exact, glob labels, path prefix, most specific first', () => {
    const c = (u: string) => ({ username: u, password: 'x' });
    const configs: DockerConfig[] = [
      { 'https://r.io/v2/': c('host'), 'r.io/team': c('team'), '*.r.io': c('glob'), 'r.io:5000': c('port') },
      { 'https://index.docker.io/v1/': c('hub'), 'r.io/team/app': c('app') },
    ];
    expect(credentialsFor(configs, 'r.io', 'team/app').map((x) => x.username)).toEqual(['app', 'team', 'host']);
    expect(credentialsFor(configs, 'r.io', 'other/app').map((x) => x.username)).toEqual(['host']);
    expect(credentialsFor(configs, 'eu.r.io', 'x').map((x) => x.username)).toEqual(['glob']);
    expect(credentialsFor(configs, 'a.eu.r.io', 'x')).toEqual([]);
    expect(credentialsFor(configs, 'r.io:5000', 'x').map((x) => x.username)).toEqual(['port']);
    expect(credentialsFor(configs, 'docker.io', 'library/nginx').map((x) => x.username)).toEqual(['hub']);
    expect(credentialsFor(configs, 'r.io', 'teamster/x').map((x) => x.username)).toEqual(['host']);
  });
});

test('WWW-Authenticate challenges', () => {
  expect(parseChallenge('Bearer realm="https://auth.r.io/token",service="r.io",scope="repository:a/b:pull"')).toEqual({
    scheme: 'bearer',
    params: { realm: 'https://auth.r.io/token', service: 'r.io', scope: 'repository:a/b:pull' },
  });
  expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: 'basic', params: { realm: 'x' } });
});

test('platform selection skips attestations and prefers the exact variant', () => {
  const index = {
    manifests: [
      { digest: 'att', platform: { os: 'unknown', architecture: 'unknown' } },
      { digest: 'v7', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { digest: 'v6', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
      { digest: 'amd', platform: { os: 'linux', architecture: 'amd64' } },
    ],
  };
  expect(pickPlatform(index, { os: 'linux', architecture: 'amd64' })).toBe('amd');
  expect(pickPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe('v6');
  expect(pickPlatform(index, { os: 'linux', architecture: 'arm' })).toBe('v7');
  expect(pickPlatform(index, { os: 'windows', architecture: 'amd64' })).toBeUndefined();
});
