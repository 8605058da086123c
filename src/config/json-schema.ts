import { listOptions } from './schema.js';
import type { OptionSpec } from './option-types.js';

/**
 * The option schema as JSON Schema (draft 2020-12), for the Configurator's forms and for
 * editors. Values are given in their INI text form, since that is what files hold.
 */
export function configJsonSchema(): Record<string, unknown> {
  const sections: Record<string, { type: 'object'; additionalProperties: false; properties: Record<string, unknown> }> = {};
  for (const { section, key, spec } of listOptions()) {
    sections[section] ??= { type: 'object', additionalProperties: false, properties: {} };
    sections[section].properties[key] = optionSchema(spec);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Mayday node configuration',
    type: 'object',
    additionalProperties: false,
    properties: sections,
  };
}

function optionSchema(spec: OptionSpec<unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { description: spec.description, 'x-mayday-kind': spec.kind };
  if (spec.default !== undefined) out.default = spec.format(spec.default);
  if (spec.secret) out.writeOnly = true;
  switch (spec.kind) {
    case 'enum':
      out.type = 'string';
      out.enum = spec.values;
      break;
    case 'integer':
      out.type = 'string';
      out.pattern = '^[+-]?\\d+$';
      if (spec.min !== undefined) out['x-minimum'] = spec.min;
      if (spec.max !== undefined) out['x-maximum'] = spec.max;
      break;
    case 'boolean':
      out.type = 'string';
      out.enum = ['true', 'false'];
      break;
    case 'list':
      out.type = 'string';
      if (spec.values) out['x-items'] = spec.values;
      break;
    default:
      out.type = 'string';
  }
  return out;
}
