import { describe, expect, it } from 'vitest';
import { annotationFieldsRuleFor } from '../../../src/roles/processor/rules/annotations.js';
import { defaultRuleset } from '../../../src/roles/processor/rules.js';
import { fieldCatalog } from '../../../src/schema/field-catalog.js';
import { contextFor } from './context.js';

const catalog = fieldCatalog([
  { name: 'gpu_vendor', annotation: 'GPUVendor', type: 'keyword' },
  { name: 'gpu_memory', annotation: 'GPUMemoryMB', type: 'integer' },
  { name: 'load_average', type: 'number' },
  { name: 'is_beta', annotation: 'IsBeta', type: 'boolean' },
  { name: 'built_at', annotation: 'BuildTime', type: 'date' },
  { name: 'released_at', type: 'date' },
  { name: 'feature_flags', annotation: 'FeatureFlags', type: 'text' },
]);

describe('annotation fields rule with declared fields', () => {
  it('types every declared field from its annotation, built-in fields as before', async () => {
    const context = contextFor({ ProductName: 'Example', GPUVendor: 'NVIDIA', GPUMemoryMB: ' 8192 ', load_average: '1.25', IsBeta: 'true', BuildTime: '1732000000', released_at: '2024-11-19T07:06:40Z', FeatureFlags: 'a,b' });
    await annotationFieldsRuleFor(catalog).act(context);
    expect(context.processed).toMatchObject({
      product: 'Example',
      gpu_vendor: 'NVIDIA',
      gpu_memory: 8192,
      load_average: 1.25,
      is_beta: true,
      built_at: new Date(1_732_000_000_000).toISOString(),
      released_at: '2024-11-19T07:06:40.000Z',
      feature_flags: 'a,b',
    });
    expect(context.notes).toEqual([]);
  });

  it('leaves out and notes values that do not convert', async () => {
    const context = contextFor({ GPUMemoryMB: 'lots', load_average: 'high', IsBeta: 'perhaps', BuildTime: 'yesterday' });
    await annotationFieldsRuleFor(catalog).act(context);
    for (const name of ['gpu_memory', 'load_average', 'is_beta', 'built_at']) expect(context.processed[name], name).toBeUndefined();
    expect(context.notes).toEqual([
      'annotation GPUMemoryMB: "lots" is not a valid integer',
      'annotation load_average: "high" is not a valid number',
      'annotation IsBeta: "perhaps" is not a valid boolean',
      'annotation BuildTime: "yesterday" is not a valid date',
    ]);
  });

  it('is the default ruleset\'s annotation rule when given the node\'s catalog', async () => {
    const noStackwalk = async (): Promise<never> => {
      throw new Error('no stackwalk here');
    };
    for (const [fields, expected] of [[catalog, 'AMD'], [undefined, undefined]] as const) {
      const rule = defaultRuleset(noStackwalk, { fields }).find((r) => r.name === 'annotation fields')!;
      const context = contextFor({ GPUVendor: 'AMD' });
      await rule.act(context);
      expect(context.processed.gpu_vendor).toBe(expected);
    }
  });
});
