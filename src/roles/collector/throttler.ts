/**
 * The throttler: decides for each crash, from its (normalised) annotations, whether it is
 * accepted (stored and queued), deferred (stored, not queued: kept for later study or
 * reprocessing without load on the processors), or rejected (nothing stored; the client is
 * answered `Discarded=<rule>` with 200 so that it does not retry forever).
 *
 * The order of checks, as in Antenna:
 * 1. the product allow-list, if one is set: other products are rejected (`unsupported_product`);
 * 2. `Throttleable=0`: the client asks not to be sampled; accepted (`throttleable_0`);
 * 3. the configured rules, in order: the first that matches decides. A rule with `sample`
 *    applies to that percentage of its matches; the rest go on to the next rules;
 * 4. nothing matched: accepted (`accept_everything`), so a fresh install takes every crash.
 */

export type ThrottleResult = 'accept' | 'defer' | 'reject';

export interface ThrottleRule {
  name: string;
  action: ThrottleResult;
  products?: readonly string[];
  /** Tested against Version with `RegExp.test` (anchor for a whole match). */
  version?: RegExp;
  channels?: readonly string[];
  /** Annotation name -> pattern its value must match (absent annotation: no match). */
  annotations?: Readonly<Record<string, RegExp>>;
  /** 0-100; absent means 100. */
  sample?: number;
}

export interface ThrottleConfig {
  /** Empty: every product is accepted. */
  products: readonly string[];
  honourThrottleable: boolean;
  rules: readonly ThrottleRule[];
}

export interface ThrottleDecision {
  result: ThrottleResult;
  rule: string;
}

/**
 * A source of sampling draws in [0, 100). One per submission, memoised by rule, so that
 * deciding twice on the same annotations (once when the first dump arrives, once at the
 * end) gives the same answer.
 */
export type SampleDraw = (rule: string) => number;

export function sampleDraws(random: () => number = Math.random): SampleDraw {
  const draws = new Map<string, number>();
  return (rule) => {
    let draw = draws.get(rule);
    if (draw === undefined) {
      draw = random() * 100;
      draws.set(rule, draw);
    }
    return draw;
  };
}

export class Throttler {
  private readonly allowed: ReadonlySet<string>;

  constructor(private readonly config: ThrottleConfig) {
    this.allowed = new Set(config.products);
  }

  decide(annotations: Readonly<Record<string, string>>, draw: SampleDraw): ThrottleDecision {
    if (this.allowed.size > 0 && !this.allowed.has(annotations.ProductName ?? '')) return { result: 'reject', rule: 'unsupported_product' };
    if (this.config.honourThrottleable && annotations.Throttleable?.trim() === '0') return { result: 'accept', rule: 'throttleable_0' };
    for (const rule of this.config.rules) {
      if (!matches(rule, annotations)) continue;
      if (rule.sample !== undefined && rule.sample < 100 && draw(rule.name) >= rule.sample) continue;
      return { result: rule.action, rule: rule.name };
    }
    return { result: 'accept', rule: 'accept_everything' };
  }
}

function matches(rule: ThrottleRule, annotations: Readonly<Record<string, string>>): boolean {
  if (rule.products && !rule.products.includes(annotations.ProductName ?? '')) return false;
  if (rule.channels && !rule.channels.includes(annotations.ReleaseChannel ?? '')) return false;
  if (rule.version && !(annotations.Version !== undefined && rule.version.test(annotations.Version))) return false;
  for (const [name, pattern] of Object.entries(rule.annotations ?? {})) {
    const value = annotations[name];
    if (value === undefined || !pattern.test(value)) return false;
  }
  return true;
}

/**
 * Builds throttle rules from the configuration's named rules (`[throttle.rules.NAME]`
 * sections, already validated by the config loader). Structural, so the collector does
 * not depend on the config module.
 */
export function throttleRulesFromConfig(
  rules: ReadonlyArray<{ name: string; fields: Record<string, unknown>; families: Record<string, Record<string, unknown>> }>,
): ThrottleRule[] {
  return rules.map(({ name, fields, families }) => {
    const rule: ThrottleRule = { name, action: fields.action as ThrottleResult };
    if (Array.isArray(fields.product)) rule.products = fields.product as string[];
    if (Array.isArray(fields.channel)) rule.channels = fields.channel as string[];
    if (typeof fields.version === 'string') rule.version = new RegExp(fields.version, 'u');
    if (typeof fields.sample === 'number') rule.sample = fields.sample;
    const patterns = families.annotation;
    if (patterns) rule.annotations = Object.fromEntries(Object.entries(patterns).map(([k, v]) => [k, new RegExp(String(v), 'u')]));
    return rule;
  });
}
