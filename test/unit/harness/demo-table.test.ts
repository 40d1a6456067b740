// The demo's promise check (test/node/demo.ts): it must fail the demo when an escape is not blocked in the
// sandboxed pod, when it does not work in the control pod, or when the sandbox takes away what the profile allows.
import { broken, rows } from '../../node/demo.js';
import { parseChecks } from '../../node/probe-pods.js';

const rs = rows('10.0.0.7', 443, 9090, 8080);
const line = (name: string, result: string, errno = '0', extra = '') =>
  `CHECK name=${name} result=${result} errno=${errno}${extra}`;

function results(sandboxed: boolean, override: Record<string, string> = {}) {
  const lines = rs.map((r) => {
    if (override[r.check]) return line(r.check, override[r.check]!, override[r.check] === 'denied' ? 'EACCES' : '0');
    if (r.check === 'id') return line('id', 'ok', '0', sandboxed ? ' uid=65534 gid=65534' : ' uid=0 gid=0');
    if (r.check === 'status') return line('status', 'ok', '0', sandboxed ? ' seccomp=2 nonewprivs=1' : ' seccomp=0');
    return sandboxed && r.expect === 'escape' ? line(r.check, 'denied', 'EPERM') : line(r.check, 'ok');
  });
  return parseChecks(lines.join('\n'));
}

test('the expected table passes', () => {
  expect(broken(rs, results(true), results(false))).toEqual([]);
});

test('an escape that works in the sandboxed pod fails the demo', () => {
  const problems = broken(rs, results(true, { 'bind:9090': 'ok' }), results(false));
  expect(problems).toEqual([expect.stringContaining('listen on port 9090: sandboxed allowed, control allowed')]);
});

test('an escape that fails in the control pod too proves nothing: it fails the demo', () => {
  expect(broken(rs, results(true), results(false, { unshare: 'denied' }))).toEqual([
    expect.stringContaining('create a user namespace (unshare)'),
  ]);
});

test('a sandbox that blocks what the profile allows fails the demo', () => {
  expect(broken(rs, results(true, { 'write:/tmp/podfence-demo': 'denied' }), results(false))).toEqual([
    expect.stringContaining('write /tmp/podfence-demo'),
  ]);
});

test('a sandboxed pod running as root or without seccomp fails the demo', () => {
  const sb = results(true);
  sb.id!.fields.uid = '0';
  sb.status!.fields.seccomp = '0';
  expect(broken(rs, sb, results(false))).toHaveLength(2);
});
