import type { Rule, Stackwalker } from './rule.js';
import { annotationFieldsRule, cleanAnnotationsRule, collectorNotesRule, processTypeRule, submissionFactsRule } from './rules/annotations.js';
import { crashTimesRule, identifiersRule } from './rules/identity.js';
import { crashingThreadInfoRule, modulesInStackRule, stackwalkRule, topmostFilenamesRule, truncateStacksRule } from './rules/stack.js';
import { osPrettyVersionRule } from './rules/system.js';

export { MAIN_DUMP } from './rules/annotations.js';

/**
 * Until Socorro-style signature generation lands (signature lists, prefix and irrelevant
 * frames), the signature is the crashing thread's top frame, normalised minimally.
 */
export const provisionalSignatureRule: Rule = {
  name: 'signature',
  act({ processed }) {
    const dump = processed.json_dump as { threads?: { frames?: { function?: string | null; module?: string | null; module_offset?: string | null; offset?: string }[] }[] } | undefined;
    const thread = typeof processed.crashing_thread === 'number' ? dump?.threads?.[processed.crashing_thread] : undefined;
    const top = thread?.frames?.[0];
    if (!dump) processed.signature = 'EMPTY: no crashing thread identified';
    else if (!top) processed.signature = 'EMPTY: no frame data available';
    else processed.signature = top.function?.replace(/\(.*$/, '') || (top.module ? `${top.module}@${top.module_offset ?? ''}` : `@${top.offset ?? '0x0'}`);
  },
};

/** The rules every crash goes through on first processing, in order. */
export function defaultRuleset(stackwalk: Stackwalker): Rule[] {
  return [
    identifiersRule,
    cleanAnnotationsRule,
    submissionFactsRule,
    annotationFieldsRule,
    processTypeRule,
    crashTimesRule,
    collectorNotesRule,
    stackwalkRule(stackwalk),
    crashingThreadInfoRule,
    truncateStacksRule,
    osPrettyVersionRule,
    modulesInStackRule,
    topmostFilenamesRule,
    provisionalSignatureRule,
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

export function rulesets(stackwalk: Stackwalker): Map<string, Ruleset> {
  const all = defaultRuleset(stackwalk);
  const signatureRule = all.find((rule) => /signature/i.test(rule.name));
  if (!signatureRule) throw new Error('internal: the default ruleset has no signature rule');
  return new Map([
    ['default', { name: 'default', rules: all, fromProcessed: false }],
    ['signature', { name: 'signature', rules: [identifiersRule, signatureRule], fromProcessed: true }],
  ]);
}
