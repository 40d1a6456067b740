import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The gRPC service definitions from proto/*.proto, loaded at run time (no generated code). The directory is found
 * by walking up from this module: it sits at the repository (or image) root both for dist/ and for the sources
 * run by the tests. $PODFENCE_PROTO_DIR overrides it.
 */
export function protoDir(): string {
  if (process.env.PODFENCE_PROTO_DIR) return process.env.PODFENCE_PROTO_DIR;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'proto', 'csi.proto'))) return join(dir, 'proto');
    const up = dirname(dir);
    if (up === dir) throw new Error('proto/csi.proto not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export interface Services {
  identity: grpc.ServiceDefinition;
  node: grpc.ServiceDefinition;
  registration: grpc.ServiceDefinition;
  /** Client constructors, for tests and tools. */
  clients: {
    Identity: grpc.ServiceClientConstructor;
    Node: grpc.ServiceClientConstructor;
    Registration: grpc.ServiceClientConstructor;
  };
}

let cached: Services | undefined;

export function loadServices(): Services {
  if (cached) return cached;
  const dir = protoDir();
  const def = protoLoader.loadSync([join(dir, 'csi.proto'), join(dir, 'pluginregistration.proto')], {
    keepCase: true, // field names as on the wire: target_path, volume_context
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    csi: { v1: { Identity: grpc.ServiceClientConstructor; Node: grpc.ServiceClientConstructor } };
    pluginregistration: { Registration: grpc.ServiceClientConstructor };
  };
  cached = {
    identity: pkg.csi.v1.Identity.service,
    node: pkg.csi.v1.Node.service,
    registration: pkg.pluginregistration.Registration.service,
    clients: {
      Identity: pkg.csi.v1.Identity,
      Node: pkg.csi.v1.Node,
      Registration: pkg.pluginregistration.Registration,
    },
  };
  return cached;
}
