/**
 * The option kinds of the `[auth]` section that no other section needs: OAuth scopes and
 * the map from the provider's group claim values to Mayday groups. Pure, as the schema is
 * (the Configurator runs it in the browser).
 */
import { list, type OptionSpec } from './option-types.js';

/** A Mayday group name as `oidc_group_map` may name one (the groups themselves live in the database). */
export const GROUP_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** OAuth scopes, comma- or space-separated (as providers write them); `openid` must be one. */
export function oidcScopes(options: { description: string; default: string[] }): OptionSpec<string[]> {
  return {
    ...list(options),
    parse(raw) {
      const items = [...new Set(raw.split(/[\s,]+/).filter((s) => s !== ''))];
      const bad = items.find((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s));
      if (bad !== undefined) throw new Error(`"${bad}" is not a scope (printable characters, no quotes or backslashes)`);
      if (!items.includes('openid')) throw new Error('the scopes must include openid');
      return items;
    },
    format: (v) => v.join(' '),
  };
}

/** `auth.oidc_group_map`: CLAIM_VALUE=GROUP items (split at the last "=", so a value may hold one). */
export function oidcGroupMap(options: { description: string; default: string[] }): OptionSpec<string[]> {
  const spec = list(options);
  return {
    ...spec,
    parse(raw) {
      const items = spec.parse(raw);
      for (const [index, item] of items.entries()) {
        const eq = item.lastIndexOf('=');
        if (eq <= 0) throw new Error(`item ${index + 1} ("${item}"): expected CLAIM_VALUE=GROUP`);
        const group = item.slice(eq + 1).trim();
        if (!GROUP_NAME_PATTERN.test(group)) throw new Error(`item ${index + 1} ("${item}"): "${group}" is not a group name (lower-case letters, digits and "_")`);
      }
      return items;
    },
  };
}

/** `oidc_group_map` items as claim value -> the Mayday groups it grants. */
export function parseGroupMap(items: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const item of items) {
    const eq = item.lastIndexOf('=');
    const value = item.slice(0, eq).trim();
    const group = item.slice(eq + 1).trim();
    map.set(value, [...new Set([...(map.get(value) ?? []), group])]);
  }
  return map;
}
