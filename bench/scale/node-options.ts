import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The Node.js options the chart gives a component (`<component>.nodeOptions` in values.yaml), as arguments for
 * `node`: the benchmark measures the processes as they ship.
 */
export function chartNodeOptions(valuesYaml: string, component: 'controller' | 'webhook'): string[] {
  const values = parse(valuesYaml) as Record<string, { nodeOptions?: unknown } | undefined>;
  const options = values[component]?.nodeOptions;
  if (options === undefined || options === null || options === '') return [];
  if (typeof options !== 'string') throw new Error(`values.yaml ${component}.nodeOptions: must be a string`);
  return options.split(/\s+/).filter(Boolean);
}

export const shippedNodeOptions = (repo: string, component: 'controller' | 'webhook') =>
  chartNodeOptions(readFileSync(join(repo, 'charts', 'podfence', 'values.yaml'), 'utf8'), component);
