import { execFile } from 'node:child_process';

/**
 * The node's Landlock ABI, as `podfence-init --probe` (the same static helper that applies Landlock in pods)
 * reports it: what the pods' wrapper will actually get, not what Node.js thinks.
 */
export interface ProbeResult {
  landlockABI: number;
  raw: Record<string, unknown>;
}

export function parseProbeOutput(stdout: string): ProbeResult {
  const raw = JSON.parse(stdout) as Record<string, unknown>;
  const abi = raw.landlock_abi;
  if (typeof abi !== 'number' || !Number.isInteger(abi) || abi < 0) {
    throw new Error(`probe output has no valid landlock_abi: ${stdout.trim().slice(0, 200)}`);
  }
  return { landlockABI: abi, raw };
}

export function probe(initBinary: string, timeoutMs = 10_000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(initBinary, ['--probe'], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${initBinary} --probe failed: ${err.message} ${String(stderr).trim()}`));
      try {
        resolve(parseProbeOutput(String(stdout)));
      } catch (parseErr) {
        reject(parseErr instanceof Error ? parseErr : new Error(String(parseErr)));
      }
    });
  });
}
