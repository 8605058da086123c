import type { Rule, Stackwalker } from './rule.js';
import { annotationFieldsRuleFor, cleanAnnotationsRule, collectorNotesRule, processTypeRule, submissionFactsRule } from './rules/annotations.js';
import { crashTimesRule, identifiersRule } from './rules/identity.js';
import { crashingThreadInfoRule, modulesInStackRule, stackwalkRule, topmostFilenamesRule, truncateStacksRule } from './rules/stack.js';
import { osPrettyVersionRule } from './rules/system.js';
import { loadSignatureLists, signatureRule } from './signature-rule.js';
import { missingSymbolsRule } from './missing-symbols-rule.js';
import type { MissingSymbolsLog } from '../../ports/symbol-store.js';
import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../schema/field-catalog.js';

export { MAIN_DUMP } from './rules/annotations.js';

export interface RulesetOptions {
  /** A directory of signature lists overriding the defaults file by file (`processor.signature_lists`). */
  signatureListsDir?: string;
  /** Where modules with missing symbols are recorded (the missing-symbols report); none if absent. */
  missingSymbolsLog?: MissingSymbolsLog;
  /** The node's fields: annotations feeding declared ones are typed into the processed crash too (default: built-in only). */
  fields?: FieldCatalog;
}

/** The rules every crash goes through on first processing, in order. */
export function defaultRuleset(stackwalk: Stackwalker, options: RulesetOptions = {}): Rule[] {
  return [
    identifiersRule,
    cleanAnnotationsRule,
    submissionFactsRule,
    annotationFieldsRuleFor(options.fields ?? DEFAULT_FIELD_CATALOG),
    processTypeRule,
    crashTimesRule,
    collectorNotesRule,
    stackwalkRule(stackwalk),
    crashingThreadInfoRule,
    truncateStacksRule,
    osPrettyVersionRule,
    modulesInStackRule,
    topmostFilenamesRule,
    ...(options.missingSymbolsLog ? [missingSymbolsRule(options.missingSymbolsLog)] : []),
    signatureRule(loadSignatureLists(options.signatureListsDir)),
  ];
}

/**
 * Named rulesets, for reprocessing: `default` redoes everything from the raw crash;
 * `signature` starts from the stored processed crash and only regenerates the signature
 * (after the signature lists changed, say), which is much cheaper than a stackwalk.
 */
export interface Ruleset {
  readonly name: string;
  readonly rules: readonly Rule[];
  /** Whether the rules refine the stored processed crash instead of starting afresh. */
  readonly fromProcessed: boolean;
}

export function rulesets(stackwalk: Stackwalker, options: RulesetOptions = {}): Map<string, Ruleset> {
  const all = defaultRuleset(stackwalk, options);
  const signature = all.find((rule) => rule.name === 'signature');
  if (!signature) throw new Error('internal: the default ruleset has no signature rule');
  return new Map([
    ['default', { name: 'default', rules: all, fromProcessed: false }],
    ['signature', { name: 'signature', rules: [identifiersRule, signature], fromProcessed: true }],
  ]);
}
