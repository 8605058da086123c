import { describe, expect, it } from 'vitest';
import type { RawCrash } from '../../../src/ports/raw-crash-store.js';
import { protectedAnnotationNames } from '../../../src/roles/collector/protected-annotations.js';
import { rawCrashDocument } from '../../../src/roles/web/crash-api.js';
import { fieldCatalog } from '../../../src/schema/field-catalog.js';

const catalog = fieldCatalog([
  { name: 'account_id', annotation: 'AccountID', type: 'keyword', protected: true },
  { name: 'gpu_vendor', annotation: 'GPUVendor', type: 'keyword' },
]);

/** A raw crash stored before `account_id` was declared protected: the collector did not list AccountID. */
const raw: RawCrash = {
  uuid: '2b6e4c1a-1d2f-4e5a-9b8c-7d6e5f261128',
  submitted_timestamp: '2026-11-28T10:00:00.000Z',
  annotations: { ProductName: 'Example', AccountID: 'acct-7', accountid: 'acct-7', GPUVendor: 'AMD', Email: 'a@example.com' },
  metadata: {
    collector_notes: [],
    dumps: {},
    payload: 'multipart',
    payload_compressed: false,
    user_agent: 'test',
    throttle_result: 'accept',
    throttle_rule: 'test',
    protected_annotations: ['Email'],
    duplicate_annotations: { AccountID: ['acct-7', 'acct-8'] },
  },
};

describe('redaction of declared protected fields', () => {
  it('hides their annotations from the raw crash, whatever the collector listed then, in any case', () => {
    const document = rawCrashDocument(raw, false, catalog);
    expect(Object.keys(document).sort()).toEqual(['GPUVendor', 'ProductName', 'metadata', 'submitted_timestamp', 'uuid']);
    expect(JSON.stringify(document)).not.toContain('acct-');
    // The built-in catalog alone does not know the field: the raw crash shows it.
    expect(rawCrashDocument(raw, false)).toHaveProperty('AccountID', 'acct-7');
    expect(rawCrashDocument(raw, true, catalog)).toHaveProperty('AccountID', 'acct-7');
  });

  it('has the collector list them as protected when a crash comes in', () => {
    expect(protectedAnnotationNames({ AccountID: 'x', GPUVendor: 'AMD', email: 'a@b', Other: '1' }, catalog)).toEqual(['AccountID', 'email']);
    expect(protectedAnnotationNames({ AccountID: 'x', email: 'a@b' })).toEqual(['email']);
  });
});
