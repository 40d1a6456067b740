import type { V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import type { ResilientInformer } from '../kube/informer.js';
import type { CompiledProfiles } from '../model/compiled-profiles.js';
import type { NodeReportObject, ProfileObject } from '../model/objects.js';
import type { NodeInstallIndex } from './install-index.js';
import type { PodProfileIndex } from './pod-index.js';

/** What both reconcilers read: the informer caches, the compiled profiles, the pod and node-file indexes. */
export interface ControllerCaches {
  profiles: ResilientInformer<ProfileObject>;
  reports: ResilientInformer<NodeReportObject>;
  nodes: ResilientInformer<V1Node>;
  pods: ResilientInformer<V1Pod>;
  /** Namespaces opted in to podfence: only their pods pin a profile. */
  namespaces: ResilientInformer<V1Namespace>;
  compiled: CompiledProfiles;
  podIndex: PodProfileIndex;
  /** Which node has which profile file: the profile reconciler's node counts. */
  installs: NodeInstallIndex;
}
