import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { configurationReference } from '../../src/config/docs.js';
import { listOptions } from '../../src/config/schema.js';

describe('docs/configuration.md', () => {
  it('is generated from the schema and up to date (run `npm run docs:config`)', () => {
    expect(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')).toBe(configurationReference());
  });

  it('documents every option with its environment variable', () => {
    const text = configurationReference();
    for (const { section, key } of listOptions()) expect(text).toContain(`MAYDAY_${section.toUpperCase()}_${key.toUpperCase()}`);
  });
});
