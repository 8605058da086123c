/**
 * Web nodes read what the pipeline wrote: raw crashes (dumps, annotations as sent, the
 * source of reprocessing) where the collectors write them, and processed crashes (the
 * report pages) where the processors write them. A web node pointed elsewhere lists crashes
 * from the index that it cannot open.
 */

import { nodeId } from '../compile.js';
import type { DeploymentNode, Finding } from '../deployment.js';
import { has, pickOption, type Check } from './check.js';

function storageOption(node: DeploymentNode, which: 'raw' | 'processed'): string {
  if (node.config.storage.backend === 's3') return pickOption(node, ['storage.s3_bucket', 'storage.s3_prefix', 'storage.s3_endpoint'], 'storage.backend');
  return pickOption(node, [which === 'raw' ? 'storage.raw_path' : 'storage.processed_path', 'node.data_dir'], 'node.data_dir');
}

export const webStoresWritten: Check = (deployment, context) => {
  const collectors = deployment.nodes.filter((n) => has(n, 'collector'));
  const processors = deployment.nodes.filter((n) => has(n, 'processor'));
  const res = (n: DeploymentNode) => context.resources.get(n)!;
  const rawWritten = new Set(collectors.map((n) => res(n).raw.id));
  const processedWritten = new Set(processors.map((n) => res(n).processed.id));
  const out: Finding[] = [];
  for (const node of deployment.nodes.filter((n) => has(n, 'web'))) {
    const { raw, processed } = res(node);
    const rawWrong = collectors.length > 0 && !rawWritten.has(raw.id) && !context.hostLocal.has(`${node.id}|raw-store`);
    const processedWrong = processors.length > 0 && !processedWritten.has(processed.id) && !context.hostLocal.has(`${node.id}|processed-store`);
    const rawOption = storageOption(node, 'raw');
    const processedOption = storageOption(node, 'processed');
    const theirs = (nodes: DeploymentNode[], which: 'raw' | 'processed') => [...new Set(nodes.map((n) => res(n)[which].detail))].join('; ');
    if (rawWrong && processedWrong && rawOption === processedOption) {
      // One setting (a bucket, a prefix) moves both: one mistake, one finding.
      out.push({
        layer: 'topology',
        code: 'web-stores-unwritten',
        severity: 'error',
        ...context.at(node, rawOption),
        option: rawOption,
        message: `${node.id} reads raw crashes from ${raw.detail} and processed crashes from ${processed.detail}, where no collector or processor writes them (collectors write to ${theirs(collectors, 'raw')}; processors to ${theirs(processors, 'processed')}): its report pages would not find the crashes the index lists`,
        hint: `give ${node.id} the [storage] settings of the collectors and processors (a shared include file)`,
        targets: [raw.id, processed.id, nodeId(node)],
      });
      continue;
    }
    if (rawWrong) {
      out.push({
        layer: 'topology',
        code: 'raw-store-unwritten',
        severity: 'error',
        ...context.at(node, rawOption),
        option: rawOption,
        message: `${node.id} reads raw crashes from ${raw.detail}, where no collector writes them (collectors write to ${theirs(collectors, 'raw')}): it could not serve dumps or reprocess crashes`,
        hint: `point ${rawOption} of ${node.id} at the collectors' storage`,
        targets: [raw.id, `${raw.id}->${nodeId(node)}`],
      });
    }
    if (processedWrong) {
      out.push({
        layer: 'topology',
        code: 'processed-store-unwritten',
        severity: 'error',
        ...context.at(node, processedOption),
        option: processedOption,
        message: `${node.id} reads processed crashes from ${processed.detail}, where no processor writes them (processors write to ${theirs(processors, 'processed')}): its report pages would not find the crashes the index lists`,
        hint: `point ${processedOption} of ${node.id} at the processors' storage`,
        targets: [processed.id, `${processed.id}->${nodeId(node)}`],
      });
    }
  }
  return out;
};
