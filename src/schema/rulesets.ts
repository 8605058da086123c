/**
 * The processor's named rulesets (see `src/roles/processor/rules.ts`), known here so that
 * the web API and the CLI can check a reprocessing request without importing the
 * processor.
 */
export const RULESET_NAMES = ['default', 'signature'] as const;
export type RulesetName = (typeof RULESET_NAMES)[number];
