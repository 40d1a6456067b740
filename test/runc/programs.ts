// The programs the runc tests run inside the container: each preset's job in busybox, node and python, and the
// probes that try syscalls a sandbox must deny and print the errno the kernel (or seccomp) returned.

/** Python: raw syscalls through libc.syscall, so nothing in between can turn one errno into another. */
export const PYTHON_PROBES = String.raw`
import ctypes, errno, json, platform, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
NR = {'x86_64': {'unshare': 272, 'mount': 165, 'ptrace': 101}, 'aarch64': {'unshare': 97, 'mount': 40, 'ptrace': 117}}[platform.machine()]
def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(NR[name], *args)
    return 'OK' if r >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
def sock(*args):
    try:
        socket.socket(*args).close()
        return 'OK'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
only = sys.argv[1:] 
out = {}
probes = {
    'unshare': lambda: call('unshare', ctypes.c_ulong(0x10000000)),            # CLONE_NEWUSER: allowed to root
    'mount': lambda: call('mount', b'none', b'/no-such-dir', b'tmpfs', ctypes.c_ulong(0), None),  # ENOENT if let through
    'ptrace': lambda: call('ptrace', ctypes.c_long(12), ctypes.c_long(999999), None, None),       # GETREGS on no pid: ESRCH
    'inet': lambda: sock(socket.AF_INET, socket.SOCK_STREAM),
    'unix': lambda: sock(socket.AF_UNIX, socket.SOCK_STREAM),
    'alg': lambda: sock(38, socket.SOCK_SEQPACKET),
    'mptcp': lambda: sock(socket.AF_INET, socket.SOCK_STREAM, 262),
}
for name in only or probes:
    out[name] = probes[name]()
    print(json.dumps(out), flush=True)
`;

export type Job = 'network-server' | 'file-processor' | 'computation';

export const PYTHON_JOBS: Record<Job, string> = {
  'network-server': String.raw`
import socket, threading
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
def serve():
    c, _ = srv.accept(); c.sendall(c.recv(100).upper()); c.close()
t = threading.Thread(target=serve); t.start()
cl = socket.create_connection(srv.getsockname()); cl.sendall(b'ping'); print('python served', cl.recv(100).decode()); t.join()
`,
  'file-processor': String.raw`
import os
with open('/tmp/in.txt', 'w') as f: f.write('hello files\n')
with open('/tmp/in.txt') as f, open('/tmp/out.tmp', 'w') as g: g.write(f.read().upper())
os.rename('/tmp/out.tmp', '/tmp/out.txt'); os.mkdir('/tmp/d'); os.chmod('/tmp/out.txt', 0o600)
print('python wrote', open('/tmp/out.txt').read().strip(), sorted(os.listdir('/tmp')))
`,
  computation: String.raw`
import hashlib, math
h = hashlib.sha256()
for i in range(20000): h.update(str(math.sqrt(i)).encode())
print('python computed', h.hexdigest()[:16], sum(i * i for i in range(100000)))
`,
};

export const NODE_JOBS: Record<Job, string> = {
  'network-server': String.raw`
const net = require('node:net');
const srv = net.createServer((c) => c.on('data', (d) => { c.end(String(d).toUpperCase()); }));
srv.listen(0, '127.0.0.1', () => {
  const c = net.connect(srv.address().port, '127.0.0.1', () => c.write('ping'));
  c.on('data', (d) => { console.log('node served', String(d)); srv.close(); c.destroy(); });
});
`,
  'file-processor': String.raw`
const fs = require('node:fs');
fs.writeFileSync('/tmp/in.txt', 'hello files\n');
fs.writeFileSync('/tmp/out.tmp', fs.readFileSync('/tmp/in.txt', 'utf8').toUpperCase());
fs.renameSync('/tmp/out.tmp', '/tmp/out.txt'); fs.mkdirSync('/tmp/d');
console.log('node wrote', fs.readFileSync('/tmp/out.txt', 'utf8').trim(), fs.readdirSync('/tmp').sort().join(','));
`,
  computation: String.raw`
const { createHash } = require('node:crypto');
let h = createHash('sha256');
for (let i = 0; i < 20000; i++) h.update(String(Math.sqrt(i)));
let s = 0; for (let i = 0; i < 100000; i++) s += i * i;
console.log('node computed', h.digest('hex').slice(0, 16), s);
`,
};

/** busybox sh (static): the shell starts, forks and execs applets, and does the job. */
export const BUSYBOX_JOBS: Record<Job, string> = {
  'network-server':
    // Connects until the listener is up (no fixed sleep: a loaded machine may start it late), for at most ~30 s.
    'busybox nc -l -p PORT -e busybox echo served & i=0; until busybox nc 127.0.0.1 PORT </dev/null; do ' +
    'i=$((i + 1)); [ $i -lt 300 ] || break; sleep 0.1; done; wait',
  'file-processor':
    'echo hello files > /tmp/in && busybox tr a-z A-Z < /tmp/in > /tmp/out.tmp && busybox mv /tmp/out.tmp /tmp/out && busybox cat /tmp/out',
  computation: 'i=0; s=0; while [ $i -lt 2000 ]; do s=$((s + i * i)); i=$((i + 1)); done; echo computed $s',
};
