import { describe, expect, it } from 'vitest';
import { DEFAULT_FIELD_CATALOG, FieldCatalogError, customFieldNameProblem, fieldCatalog, fieldCatalogFromConfig } from '../../src/schema/field-catalog.js';
import { PROCESSED_CRASH_FIELDS, PROTECTED_ANNOTATIONS, PROTECTED_FIELDS, redactProcessedCrash } from '../../src/schema/processed-crash.js';
import { formatFinding, loadConfig } from '../../src/config/load.js';

describe('field catalog', () => {
  it('is the built-in table when nothing is declared', () => {
    expect(DEFAULT_FIELD_CATALOG.fields).toEqual(PROCESSED_CRASH_FIELDS);
    expect(DEFAULT_FIELD_CATALOG.custom).toEqual([]);
    expect([...DEFAULT_FIELD_CATALOG.protectedFields].sort()).toEqual([...PROTECTED_FIELDS].sort());
    expect([...DEFAULT_FIELD_CATALOG.protectedAnnotations].sort()).toEqual([...PROTECTED_ANNOTATIONS].sort());
    expect(DEFAULT_FIELD_CATALOG.searchable.map((f) => f.name)).toEqual(PROCESSED_CRASH_FIELDS.filter((f) => f.searchable).map((f) => f.name));
    const crash = { uuid: 'x', email: 'a@example.com', url: 'https://example.com', product: 'P' };
    expect(DEFAULT_FIELD_CATALOG.redact(crash)).toEqual(redactProcessedCrash(crash));
  });

  it('adds declared fields: searchable, typed, fed by their annotation (default: the name), kept out of columns', () => {
    const catalog = fieldCatalog([
      { name: 'gpu_vendor', annotation: 'GPUVendor', type: 'keyword', description: 'GPU vendor reported by the app' },
      { name: 'git_sha', type: 'keyword' },
      { name: 'account_id', annotation: 'AccountID', type: 'keyword', protected: true },
    ]);
    expect(catalog.fields.length).toBe(PROCESSED_CRASH_FIELDS.length + 3);
    expect(catalog.custom.map((f) => f.name)).toEqual(['gpu_vendor', 'git_sha', 'account_id']);
    expect(catalog.byName('gpu_vendor')).toEqual({
      name: 'gpu_vendor',
      type: 'keyword',
      description: 'GPU vendor reported by the app',
      protected: false,
      searchable: true,
      annotations: ['GPUVendor'],
      custom: true,
    });
    expect(catalog.byName('git_sha')?.annotations).toEqual(['git_sha']);
    expect(catalog.byName('git_sha')?.description).toBe('The git_sha annotation.');
    expect(catalog.searchableField('gpu_vendor')?.column).toBeUndefined();
    expect(catalog.searchableField('json_dump')).toBeUndefined();
    expect(catalog.protectedFields.has('account_id')).toBe(true);
    expect(catalog.protectedAnnotations.has('AccountID')).toBe(true);
    expect(catalog.protectedAnnotations.has('Email')).toBe(true);
    expect(catalog.redact({ uuid: 'x', account_id: 'secret', gpu_vendor: 'AMD', email: 'a@b' })).toEqual({ uuid: 'x', gpu_vendor: 'AMD' });
    // The default catalog is not changed by another one.
    expect(DEFAULT_FIELD_CATALOG.byName('gpu_vendor')).toBeUndefined();
  });

  it('refuses bad names, built-in names, bad types and fields declared twice', () => {
    expect(() => fieldCatalog([{ name: 'GPU', type: 'keyword' }])).toThrow(FieldCatalogError);
    expect(() => fieldCatalog([{ name: 'signature', type: 'keyword' }])).toThrow(/built-in field/);
    expect(() => fieldCatalog([{ name: 'date', type: 'keyword' }])).toThrow(/reserved/);
    // @ts-expect-error: a type the configuration would refuse, handed in by hand
    expect(() => fieldCatalog([{ name: 'x', type: 'list' }])).toThrow(/type "list" is not one of keyword, text, integer, number, boolean, date/);
    expect(() => fieldCatalog([{ name: 'x', type: 'keyword' }, { name: 'x', type: 'integer' }])).toThrow(/declared twice/);
    expect(customFieldNameProblem('gpu_vendor')).toBeUndefined();
    expect(customFieldNameProblem('a'.repeat(64))).toBeUndefined();
    for (const bad of ['a'.repeat(65), '_x', '1x', 'x-y', 'x.y', 'Xy', '']) expect(customFieldNameProblem(bad), bad).toMatch(/lower-case letter/);
  });

  it('reads the configuration\'s rules', () => {
    const catalog = fieldCatalogFromConfig([
      { name: 'gpu_vendor', fields: { annotation: 'GPUVendor', type: 'keyword', protected: false, description: 'GPU' } },
      { name: 'mem', fields: { type: 'integer', protected: true } },
      { name: 'plain', fields: {} },
    ]);
    expect(catalog.byName('gpu_vendor')).toMatchObject({ annotations: ['GPUVendor'], type: 'keyword', protected: false, description: 'GPU' });
    expect(catalog.byName('mem')).toMatchObject({ annotations: ['mem'], type: 'integer', protected: true });
    expect(catalog.byName('plain')).toMatchObject({ annotations: ['plain'], type: 'keyword', protected: false });
  });
});

describe('[annotations.fields.NAME] in the configuration', () => {
  const load = (text: string) => loadConfig({ file: { name: 'node.ini', text } });

  it('declares fields with their annotation, type, protection and description', () => {
    const { config, findings } = load(
      '[annotations.fields.gpu_vendor]\nannotation = GPUVendor\ntype = keyword\nprotected = false\ndescription = GPU vendor reported by the app\n\n[annotations.fields.account_id]\ntype = keyword\nprotected = true\n',
    );
    expect(findings).toEqual([]);
    const catalog = fieldCatalogFromConfig(config!.annotations.fields);
    expect(catalog.custom.map((f) => [f.name, f.annotations, f.type, f.protected, f.description])).toEqual([
      ['gpu_vendor', ['GPUVendor'], 'keyword', false, 'GPU vendor reported by the app'],
      ['account_id', ['account_id'], 'keyword', true, 'The account_id annotation.'],
    ]);
  });

  it('refuses a built-in name, a bad name and a bad type, each at its file:line', () => {
    const { config, findings } = load('[web]\nport = 9000\n[annotations.fields.signature]\ntype = keyword\n[annotations.fields.GPU-Vendor]\ntype = keyword\n[annotations.fields.gpu]\ntype = float\nprotected = maybe\n');
    expect(config).toBeUndefined();
    expect(findings.map(formatFinding)).toEqual([
      'node.ini:3: error: [annotations.fields.signature]: field name "signature" is a built-in field (see /documentation/datadictionary/): choose another name',
      'node.ini:5: error: [annotations.fields.GPU-Vendor]: field name "GPU-Vendor": use a lower-case letter, then up to 63 lower-case letters, digits and "_"',
      'node.ini:8: error: [annotations.fields.gpu]: type: expected one of keyword, text, integer, number, boolean, date, got "float"',
      'node.ini:9: error: [annotations.fields.gpu]: protected: expected true or false, got "maybe"',
    ]);
  });

  it('refuses unknown keys in a field section', () => {
    const { findings } = load('[annotations.fields.gpu]\nsearchable = true\n');
    expect(findings.map(formatFinding)).toEqual(['node.ini:2: error: [annotations.fields.gpu]: unknown rule field "searchable" (allowed: annotation, type, protected, description)']);
  });

  it('checks names given through the environment too', () => {
    const { findings } = loadConfig({ env: { MAYDAY_ANNOTATIONS_FIELDS: JSON.stringify([{ name: 'uuid', type: 'keyword' }]) } });
    expect(findings.map(formatFinding)).toEqual(['environment: error: annotations.fields: rule uuid: field name "uuid" is a built-in field (see /documentation/datadictionary/): choose another name']);
  });
});
