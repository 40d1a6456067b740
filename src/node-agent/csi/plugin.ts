import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { PODFENCE_VERSION } from '../../common/version.js';
import { CommandMounter, type Mounter } from './mounter.js';
import { csiPaths, DRIVER_NAME, SUPPORTED_CSI_VERSIONS, type CsiPaths } from './names.js';
import { NodeService } from './node-service.js';
import { loadServices } from './proto.js';
import { HelperStore } from './store.js';
import { Code, CsiError, type PublishRequest, type UnpublishRequest } from './validate.js';

export interface CsiPluginOptions {
  nodeName: string;
  kubeletRoot: string;
  /** The helper binary this agent ships; installed into the store on start. */
  helperBinary: string;
  log: Logger;
  registry?: Registry;
  vendorVersion?: string;
  /** Serve the kubelet registration socket (off for tools that talk to the CSI socket directly). */
  register?: boolean;
  /** Overrides for tests: another pods dir or store, a fake mounter. */
  paths?: Partial<CsiPaths>;
  mounter?: Mounter;
  /** Called when readiness may have changed (store installed, registration answered). */
  onChange?: () => void;
}

/** What the node report says about the driver. */
export interface CsiStatus {
  ready: boolean;
  helperVersion?: string;
  message?: string;
}

type Handler<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/**
 * podfence's CSI node plugin: Identity + Node on `<kubelet root>/plugins/podfence.dev/csi.sock`, and the kubelet's
 * Registration service on `<kubelet root>/plugins_registry/podfence.dev-reg.sock` (the plugin registers itself, no
 * node-driver-registrar sidecar). Ready once the helper store has a current version and the kubelet confirmed the
 * registration.
 */
export class CsiPlugin {
  readonly paths: CsiPaths;
  readonly store: HelperStore;
  readonly node: NodeService;
  private csiServer: grpc.Server | undefined;
  private regServer: grpc.Server | undefined;
  private storeReady = false;
  private helperVersion: string | undefined;
  private registration: { registered: boolean; error?: string } | undefined;
  private readonly calls: Counter<'method' | 'code'>;
  private readonly mounted: Gauge;

  constructor(private readonly o: CsiPluginOptions) {
    this.paths = { ...csiPaths(o.kubeletRoot), ...o.paths };
    this.store = new HelperStore(this.paths.storeDir);
    this.node = new NodeService({
      nodeName: o.nodeName,
      podsDir: this.paths.podsDir,
      store: this.store,
      mounter: o.mounter ?? new CommandMounter(),
    });
    const registers = o.registry ? [o.registry] : [];
    this.calls = new Counter({
      name: 'podfence_csi_calls_total',
      help: 'CSI and registration calls by method and gRPC status code',
      labelNames: ['method', 'code'],
      registers,
    });
    this.mounted = new Gauge({
      name: 'podfence_csi_volumes_published',
      help: 'Helper volumes currently mounted on this node',
      registers,
      // Counted from the kernel's mount table, so it is right after restarts too.
      collect: async () => {
        const published = await this.node.published().catch(() => undefined);
        if (published) this.mounted.set(published.size);
      },
    });
  }

  /** Why the plugin is not ready, or undefined. */
  health(): string | undefined {
    if (!this.storeReady) return 'CSI: helper store not installed yet';
    if (this.o.register === false) return undefined;
    if (!this.registration) return 'CSI: not registered with the kubelet yet';
    if (!this.registration.registered) return `CSI: kubelet refused the registration: ${this.registration.error}`;
    return undefined;
  }

  status(): CsiStatus {
    const problem = this.health();
    return {
      ready: !problem,
      ...(this.helperVersion ? { helperVersion: this.helperVersion } : {}),
      ...(problem ? { message: problem } : {}),
    };
  }

  async start(): Promise<void> {
    const { version, removed } = await this.node.installAndCollect(this.o.helperBinary);
    this.storeReady = true;
    this.helperVersion = version;
    this.o.onChange?.();
    this.o.log.info({ version, removed, store: this.paths.storeDir }, 'helper store ready');
    const svc = loadServices();
    this.csiServer = new grpc.Server();
    this.csiServer.addService(svc.identity, this.identityHandlers());
    this.csiServer.addService(svc.node, this.nodeHandlers());
    await listen(this.csiServer, this.paths.csiSocket);
    this.o.log.info({ socket: this.paths.csiSocket }, 'CSI socket listening');
    if (this.o.register !== false) {
      this.regServer = new grpc.Server();
      this.regServer.addService(svc.registration, this.registrationHandlers());
      // Created last: its appearance is what makes the kubelet call GetInfo.
      await listen(this.regServer, this.paths.registrationSocket);
      this.o.log.info({ socket: this.paths.registrationSocket }, 'registration socket listening');
    }
  }

  /** Removes versions no volume shows any more (run periodically by the agent). */
  async collect(): Promise<string[]> {
    const removed = await this.node.collect();
    if (removed.length) this.o.log.info({ removed }, 'unused helper versions removed');
    return removed;
  }

  async stop(): Promise<void> {
    // Registration socket first: the kubelet unregisters the plugin when it disappears.
    for (const [server, path] of [
      [this.regServer, this.paths.registrationSocket],
      [this.csiServer, this.paths.csiSocket],
    ] as const) {
      if (!server) continue;
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await fs.rm(path, { force: true });
    }
    this.regServer = this.csiServer = undefined;
  }

  private unary<Req, Res>(method: string, fn: (req: Req) => Promise<Res> | Res): Handler<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => fn(call.request))
        .then(
          (res) => {
            this.calls.inc({ method, code: 'OK' });
            callback(null, res);
          },
          (err: unknown) => {
            const code = err instanceof CsiError ? err.code : Code.INTERNAL;
            const details = err instanceof Error ? err.message : String(err);
            this.calls.inc({ method, code: grpc.status[code] ?? String(code) });
            (code === Code.INTERNAL ? this.o.log.error : this.o.log.warn).call(
              this.o.log,
              { method, code: grpc.status[code], err: details },
              'CSI call failed',
            );
            callback({ code, details });
          },
        );
    };
  }

  private identityHandlers(): grpc.UntypedServiceImplementation {
    return {
      GetPluginInfo: this.unary('GetPluginInfo', () => ({
        name: DRIVER_NAME,
        vendor_version: this.o.vendorVersion ?? PODFENCE_VERSION,
        manifest: {},
      })),
      // No controller service: the volume needs no provisioning or attaching.
      GetPluginCapabilities: this.unary('GetPluginCapabilities', () => ({ capabilities: [] })),
      Probe: this.unary('Probe', () => ({ ready: { value: this.storeReady } })),
    };
  }

  private nodeHandlers(): grpc.UntypedServiceImplementation {
    return {
      NodeGetInfo: this.unary('NodeGetInfo', () => ({ node_id: this.o.nodeName, max_volumes_per_node: '0' })),
      // Nothing optional: no staging, no stats, no fsGroup (the volume is root-owned and read-only).
      NodeGetCapabilities: this.unary('NodeGetCapabilities', () => ({ capabilities: [] })),
      NodePublishVolume: this.unary('NodePublishVolume', async (req: PublishRequest) => {
        const r = await this.node.publish(req);
        this.o.log.info(
          { target: req.target_path, volume: req.volume_id, version: r.version, already: r.already },
          'helper volume published',
        );
        return {};
      }),
      NodeUnpublishVolume: this.unary('NodeUnpublishVolume', async (req: UnpublishRequest) => {
        const r = await this.node.unpublish(req);
        this.o.log.info({ target: req.target_path, volume: req.volume_id, ...r }, 'helper volume unpublished');
        return {};
      }),
    };
  }

  private registrationHandlers(): grpc.UntypedServiceImplementation {
    return {
      GetInfo: this.unary('GetInfo', () => ({
        type: 'CSIPlugin',
        name: DRIVER_NAME,
        endpoint: this.paths.csiSocket,
        supported_versions: SUPPORTED_CSI_VERSIONS,
      })),
      NotifyRegistrationStatus: this.unary(
        'NotifyRegistrationStatus',
        (req: { plugin_registered?: boolean; error?: string }) => {
          this.registration = { registered: !!req.plugin_registered, error: req.error };
          if (req.plugin_registered) this.o.log.info('registered with the kubelet');
          else this.o.log.error({ err: req.error }, 'the kubelet refused the registration');
          this.o.onChange?.();
          return {};
        },
      ),
    };
  }
}

/** Binds a gRPC server to a unix socket, replacing a stale socket file a crash left behind. */
async function listen(server: grpc.Server, path: string): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true, mode: 0o750 });
  await fs.rm(path, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  await fs.chmod(path, 0o600);
}
