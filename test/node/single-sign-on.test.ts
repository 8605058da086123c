/** The `[auth]` options into a web node's single sign-on parts, and the start-up check of the group map. */
import { describe, expect, it } from 'vitest';

import { SqliteAccountStore } from '../../src/auth/account-store.js';
import { loadConfig } from '../../src/config/load.js';
import { missingMappedGroups, singleSignOnFromConfig } from '../../src/node/single-sign-on.js';

const configOf = (text: string) => {
  const { config, findings } = loadConfig({ env: {}, file: { name: 'node.ini', text } });
  if (!config) throw new Error(JSON.stringify(findings));
  return config;
};

describe('single sign-on from the configuration', () => {
  it('is off without an issuer', () => {
    expect(singleSignOnFromConfig(configOf(''))).toBeUndefined();
  });

  it('derives the redirect URI and home from the public URL, and the mapping from the options', () => {
    const sso = singleSignOnFromConfig(
      configOf('[web]\npublic_url = https://crash.example.org/\n[auth]\noidc_issuer = https://idp.example.org\noidc_client_id = mayday\noidc_group_map = devs=hackers, ops=nobody_has_this\noidc_create_users = false\noidc_username_claim = email\n'),
    )!;
    expect(sso.client.settings).toMatchObject({ redirectUri: 'https://crash.example.org/login/oidc/callback', clientId: 'mayday', scopes: ['openid', 'profile', 'email'], wantedClaims: ['email', 'groups'] });
    expect(sso.homeUrl).toBe('https://crash.example.org/');
    expect(sso.mapping).toMatchObject({ usernameClaim: 'email', groupsClaim: 'groups', createUsers: false });
    expect(sso.label).toBe('SSO');
  });

  it('names the mapped groups the database lacks', async () => {
    const accounts = SqliteAccountStore.open(':memory:');
    try {
      const sso = singleSignOnFromConfig(configOf('[web]\npublic_url = https://crash.example.org\n[auth]\noidc_issuer = https://idp.example.org\noidc_client_id = mayday\noidc_group_map = devs=hackers, ops=operators, x=auditors\n'))!;
      expect(await missingMappedGroups(sso.mapping, accounts)).toEqual(['auditors', 'operators']);
      const noMap = singleSignOnFromConfig(configOf('[web]\npublic_url = https://crash.example.org\n[auth]\noidc_issuer = https://idp.example.org\noidc_client_id = mayday\n'))!;
      expect(await missingMappedGroups(noMap.mapping, accounts)).toEqual([]);
    } finally {
      await accounts.close();
    }
  });
});
