// A loopback image registry for the e2e (Debian's docker-registry, plain HTTP on 127.0.0.1), holding the probe
// image pushed from its local OCI archive with skopeo: the webhook resolves the image's entrypoint from it and
// containerd pulls from it.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '../cluster/net.js';
import { logTail, startProcess, type ManagedProcess } from '../cluster/processes.js';

const run = promisify(execFile);

export interface LoopbackRegistry {
  hostPort: string;
  process: ManagedProcess;
  /** Pushes an OCI archive (tag `dev` inside) as `<hostPort>/<repo>:<tag>`; returns the image reference. */
  push(archive: string, repo: string, tag?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startRegistry(dir: string): Promise<LoopbackRegistry> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const hostPort = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "${hostPort}" }`,
      '',
    ].join('\n'),
  );
  const proc = startProcess({
    name: 'registry',
    command: 'docker-registry',
    args: ['serve', config],
    dir,
    tiedToParent: true,
  });
  await waitFor(
    async () => (await fetch(`http://${hostPort}/v2/`)).status === 200,
    20_000,
    `the registry answers on ${hostPort} (log ${proc.logPath}:\n${logTail(proc.logPath)})`,
  );
  return {
    hostPort,
    process: proc,
    async push(archive, repo, tag = 'dev') {
      const ref = `${hostPort}/${repo}:${tag}`;
      await run('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        `oci-archive:${archive}:dev`,
        `docker://${ref}`,
      ]);
      return ref;
    },
    stop: () => proc.stop(),
  };
}
