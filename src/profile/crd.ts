import { stringify } from 'yaml';
import { z } from 'zod';
import {
  ADMISSION_PARAMS_KIND,
  ADMISSION_PARAMS_PLURAL,
  GROUP,
  NODE_REPORT_KIND,
  NODE_REPORT_PLURAL,
  PROFILE_KIND,
  PROFILE_PLURAL,
  VERSION,
} from '../common/constants.js';
import { NodeReportStatusSchema } from './node-report.js';
import { SandboxProfileSpecSchema, SandboxProfileStatusSchema } from './schema.js';

/** A JSON Schema / OpenAPI v3 node (loosely typed: it is data). */
type Schema = Record<string, unknown>;

const JS_SAFE_INT = Number.MAX_SAFE_INTEGER;

/**
 * Turn zod's JSON Schema into a structural OpenAPI v3 schema the apiserver accepts: no `$schema`, no
 * `additionalProperties: false` (unknown fields are pruned instead), `const` as a one-value enum, no JS safe-integer
 * bounds, and every node typed. Fails loudly on constructs a structural schema cannot hold.
 */
export function toStructural(node: Schema, path = '$'): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case '$schema':
      case 'id':
        break;
      case 'additionalProperties':
        if (value !== false) throw new Error(`${path}: additionalProperties schemas are not used by podfence`);
        break;
      case 'const':
        out.enum = [value];
        break;
      case 'minimum':
      case 'maximum':
        if (Math.abs(value as number) !== JS_SAFE_INT) out[key] = value;
        break;
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toStructural(v, `${path}.${k}`)]),
        );
        break;
      case 'items':
        out.items = toStructural(value as Schema, `${path}[]`);
        break;
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
      case '$ref':
      case '$defs':
      case 'not':
        throw new Error(`${path}: ${key} has no structural equivalent; simplify the zod schema`);
      default:
        out[key] = value;
    }
  }
  if (typeof out.type !== 'string') throw new Error(`${path}: no type`);
  return out;
}

const jsonSchema = (s: z.ZodType): Schema => toStructural(z.toJSONSchema(s, { io: 'input' }) as Schema);

/** The root of a custom resource: apiVersion/kind/metadata are the apiserver's; spec and status are ours. */
function root(description: string, properties: Record<string, Schema>, extra: Schema = {}): Schema {
  return {
    type: 'object',
    description,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      ...properties,
    },
    ...extra,
  };
}

function crd(kind: string, plural: string, opts: { shortNames: string[]; schema: Schema; columns: Schema[] }): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Cluster',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames: opts.shortNames },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: opts.columns,
          schema: { openAPIV3Schema: opts.schema },
        },
      ],
    },
  };
}

const AGE = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export function sandboxProfileCrd(): Schema {
  const schema = root(
    'SandboxProfile: one sandbox (capabilities, seccomp, non-root user, Landlock) for the pods of opted-in namespaces.',
    { spec: jsonSchema(SandboxProfileSpecSchema), status: jsonSchema(SandboxProfileStatusSchema) },
    {
      // The name goes into on-node file names and annotations: a DNS label of at most 40 characters.
      'x-kubernetes-validations': [
        { rule: 'size(self.metadata.name) <= 40', message: 'metadata.name must be at most 40 characters' },
        {
          rule: "!self.metadata.name.contains('.')",
          message: 'metadata.name must be a DNS label (lower-case letters, digits and -)',
        },
      ],
    },
  );
  return crd(PROFILE_KIND, PROFILE_PLURAL, {
    shortNames: ['sbp'],
    schema,
    columns: [
      { name: 'Preset', type: 'string', jsonPath: '.spec.preset' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      {
        name: 'Nodes',
        type: 'integer',
        description: 'Nodes with the profile installed',
        jsonPath: '.status.nodes.installed',
      },
      { name: 'Total', type: 'integer', description: 'Nodes in the cluster', jsonPath: '.status.nodes.total' },
      { name: 'Pods', type: 'integer', jsonPath: '.status.pods' },
      { name: 'Reason', type: 'string', priority: 1, jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
      { name: 'Seccomp', type: 'string', priority: 1, jsonPath: '.status.seccompProfilePath' },
      AGE,
    ],
  });
}

export function sandboxNodeReportCrd(): Schema {
  const schema = root('SandboxNodeReport: what the podfence node agent found on one node (named after the node).', {
    status: jsonSchema(NodeReportStatusSchema),
  });
  return crd(NODE_REPORT_KIND, NODE_REPORT_PLURAL, {
    shortNames: ['sbnr'],
    schema,
    columns: [
      { name: 'ABI', type: 'integer', description: 'Landlock ABI', jsonPath: '.status.landlockABI' },
      // JSONPath in printer columns cannot count: list the installed profiles instead.
      {
        name: 'Installed',
        type: 'string',
        description: 'Installed profiles',
        jsonPath: '.status.installed[*].profile',
      },
      { name: 'Kernel', type: 'string', priority: 1, jsonPath: '.status.kernel' },
      { name: 'Updated', type: 'date', priority: 1, jsonPath: '.status.updatedAt' },
      AGE,
    ],
  });
}

export function sandboxAdmissionParamsCrd(): Schema {
  const schema = root(
    'SandboxAdmissionParams: what the sandbox-required ValidatingAdmissionPolicy checks pods against, per ' +
      'SandboxProfile (written by the podfence controller).',
    {
      data: {
        type: 'object',
        description: '<profile>.<field> and global settings -> value (see src/model/admission-params.ts).',
        additionalProperties: { type: 'string' },
      },
    },
  );
  return crd(ADMISSION_PARAMS_KIND, ADMISSION_PARAMS_PLURAL, { shortNames: ['sbap'], schema, columns: [AGE] });
}

/** File name in crds/ -> CRD object. */
export function allCrds(): Record<string, Schema> {
  return {
    [`${GROUP}_${PROFILE_PLURAL}.yaml`]: sandboxProfileCrd(),
    [`${GROUP}_${NODE_REPORT_PLURAL}.yaml`]: sandboxNodeReportCrd(),
    [`${GROUP}_${ADMISSION_PARAMS_PLURAL}.yaml`]: sandboxAdmissionParamsCrd(),
  };
}

/** The checked-in YAML of a CRD (generated: the header says so; the unit test compares byte for byte). */
export function renderCrd(obj: Schema): string {
  return (
    '# Generated by scripts/gen-crd.ts from the zod schemas in src/profile (npm run gen:crd). Do not edit.\n' +
    stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false })
  );
}
