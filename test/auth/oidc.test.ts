/**
 * The parts of single sign-on that need no browser: the `[auth]` options and their
 * checks at file:line, the sealed login state, the claims read into a login, and the
 * provider client's lazy discovery (a provider down at start, then back).
 */
import { describe, expect, it } from 'vitest';

import { claimAt, claimValues, loginFromClaims, type ClaimMapping } from '../../src/auth/oidc-claims.js';
import { OidcClient, OidcUnavailableError } from '../../src/auth/oidc-client.js';
import { OidcStateSealer, type OidcPendingLogin } from '../../src/auth/oidc-state.js';
import { formatFinding, loadConfig } from '../../src/config/load.js';
import { parseGroupMap } from '../../src/config/oidc-options.js';
import { freePort } from '../support/free-port.js';
import { startTestProvider } from '../support/oidc-provider.js';

const load = (text: string) => loadConfig({ env: {}, file: { name: 'node.ini', text } });

describe('[auth] options', () => {
  it('are off by default, with documented defaults', () => {
    const { config, findings } = load('');
    expect(findings).toEqual([]);
    expect(config!.auth).toEqual({
      oidc_issuer: undefined,
      oidc_client_id: undefined,
      oidc_client_secret: undefined,
      oidc_scopes: ['openid', 'profile', 'email'],
      oidc_username_claim: 'preferred_username',
      oidc_groups_claim: 'groups',
      oidc_group_map: [],
      oidc_create_users: true,
      oidc_button_label: 'SSO',
      oidc_logout_at_provider: false,
    });
  });

  it('read a provider with scopes (spaces or commas) and a group map', () => {
    const { config, findings } = load(
      '[web]\npublic_url = https://crash.example.org\n[auth]\noidc_issuer = https://idp.example.org/realms/acme\noidc_client_id = mayday\noidc_client_secret = s3cret\noidc_scopes = openid profile,groups\noidc_group_map = /mayday/devs=hackers, /mayday/devs=symbol_uploaders, cn=ops=admins\noidc_groups_claim = resource_access.mayday.roles\n',
    );
    expect(findings).toEqual([]);
    expect(config!.auth.oidc_scopes).toEqual(['openid', 'profile', 'groups']);
    expect(parseGroupMap(config!.auth.oidc_group_map)).toEqual(
      new Map([
        ['/mayday/devs', ['hackers', 'symbol_uploaders']],
        ['cn=ops', ['admins']],
      ]),
    );
  });

  it('refuse an issuer without the public URL or the client id, at the issuer\'s line', () => {
    const { config, findings } = load('[auth]\n\noidc_issuer = https://idp.example.org\n');
    expect(config).toBeUndefined();
    expect(findings.map(formatFinding)).toEqual([
      'node.ini:3: error: auth.oidc_issuer needs web.public_url: the provider sends people back to PUBLIC_URL/login/oidc/callback, which must be the URL they reach this node at',
      'node.ini:3: error: auth.oidc_issuer needs auth.oidc_client_id (the id Mayday is registered with at the provider)',
    ]);
  });

  it('refuse bad values at their line', () => {
    const { findings } = load(
      '[web]\npublic_url = https://crash.example.org\n[auth]\noidc_issuer = ldap://idp\noidc_client_id = mayday\noidc_scopes = profile email\noidc_group_map = devs\noidc_button_label = <b>x</b>\n[auth]\noidc_group_map = devs=Hackers\n',
    );
    expect(findings.map(formatFinding)).toEqual(
      expect.arrayContaining([
        'node.ini:4: error: auth.oidc_issuer: expected a http or https URL, got "ldap:"',
        'node.ini:6: error: auth.oidc_scopes: the scopes must include openid',
        expect.stringMatching(/^node\.ini:7: error: auth\.oidc_group_map: item 1 \("devs"\): expected CLAIM_VALUE=GROUP$/),
        expect.stringMatching(/^node\.ini:8: error: auth\.oidc_button_label: expected up to 60 characters/),
      ]),
    );
    expect(load('[auth]\noidc_group_map = devs=Hackers\n').findings.map(formatFinding)).toEqual([
      'node.ini:2: error: auth.oidc_group_map: item 1 ("devs=Hackers"): "Hackers" is not a group name (lower-case letters, digits and "_")',
    ]);
  });

  it('keep the client secret out of explanations (a secret option)', async () => {
    const { SCHEMA } = await import('../../src/config/schema.js');
    expect(SCHEMA.auth.oidc_client_secret.secret).toBe(true);
  });
});

describe('the sealed login state', () => {
  const pending: OidcPendingLogin = { state: 'st', nonce: 'no', codeVerifier: 'verifier-'.repeat(5), next: '/report/index/x', expiresAt: 2_000 };

  it('opens on any node sharing the client secret, and hides what it holds', () => {
    const sealed = new OidcStateSealer('secret').seal(pending);
    expect(sealed).not.toContain('verifier');
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('verifier');
    expect(new OidcStateSealer('secret').open(sealed, 1_000)).toEqual(pending);
  });

  it('refuses what another key sealed, any altered byte, expiry and garbage', () => {
    const sealer = new OidcStateSealer('secret');
    const sealed = sealer.seal(pending);
    expect(new OidcStateSealer('another secret').open(sealed, 1_000)).toBeUndefined();
    const bytes = Buffer.from(sealed, 'base64url');
    for (const index of [0, 13, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[index]! ^= 1;
      expect(sealer.open(altered.toString('base64url'), 1_000)).toBeUndefined();
    }
    expect(sealer.open(sealed, 2_000)).toBeUndefined();
    for (const junk of [undefined, '', 'x', 'a'.repeat(5000), Buffer.alloc(40).toString('base64url')]) expect(sealer.open(junk, 1_000)).toBeUndefined();
    // A public client (no secret): a key of the process, unknown to any other.
    expect(new OidcStateSealer(undefined).open(new OidcStateSealer(undefined).seal(pending), 1_000)).toBeUndefined();
  });
});

describe('claims into a login', () => {
  const mapping: ClaimMapping = { usernameClaim: 'preferred_username', groupsClaim: 'groups', groupMap: parseGroupMap(['devs=hackers', 'ops=admins', 'ops=hackers']), createUsers: true };
  const base = { iss: 'https://idp.example.org', sub: 'f81d4fae-7dec' };

  it('names the user by the username claim, else by the subject', () => {
    expect(loginFromClaims({ ...base, preferred_username: 'jane' }, mapping)).toEqual({ subject: 'https://idp.example.org f81d4fae-7dec', username: 'jane', groups: [], createUnknown: true });
    expect(loginFromClaims({ ...base, preferred_username: 'Jane Doe' }, mapping).username).toBe('f81d4fae-7dec');
    expect(loginFromClaims(base, mapping).username).toBe('f81d4fae-7dec');
    expect(loginFromClaims({ ...base, email: 'jane@example.org' }, { ...mapping, usernameClaim: 'email' }).username).toBe('jane@example.org');
  });

  it('maps group claim values (a list or one string) through the map; without a map, leaves groups alone', () => {
    expect(loginFromClaims({ ...base, groups: ['ops', 'devs', 'marketing', 7] }, mapping).groups).toEqual(['admins', 'hackers']);
    expect(loginFromClaims({ ...base, groups: 'devs' }, mapping).groups).toEqual(['hackers']);
    expect(loginFromClaims({ ...base, groups: ['ops'] }, { ...mapping, groupMap: new Map() }).groups).toBeUndefined();
    expect(loginFromClaims({ ...base, resource_access: { mayday: { roles: ['devs'] } } }, { ...mapping, groupsClaim: 'resource_access.mayday.roles' }).groups).toEqual(['hackers']);
  });

  it('reads a claim whose name has dots before a path', () => {
    expect(claimAt({ 'https://example.org/groups': ['a'] }, 'https://example.org/groups')).toEqual(['a']);
    expect(claimAt({ a: { b: 1 } }, 'a.c')).toBeUndefined();
    expect(claimAt({ a: 'x' }, 'a.length')).toBeUndefined();
    expect(claimValues(undefined)).toEqual([]);
  });
});

describe('the provider client', () => {
  it('discovers lazily: a provider down answers "unavailable" (without asking again at once), and is found once it is back', async () => {
    const port = await freePort();
    let now = 0;
    const redirectUri = 'http://127.0.0.1:9/login/oidc/callback';
    const client = new OidcClient({ issuer: `http://127.0.0.1:${port}`, clientId: 'mayday', clientSecret: 'the mayday client secret, long enough for HS256', redirectUri, scopes: ['openid'], wantedClaims: [], retryAfterMs: 5_000 }, () => now);
    await expect(client.start()).rejects.toThrow(OidcUnavailableError);
    const provider = await startTestProvider({ port, redirectUri, postLogoutRedirectUri: 'http://127.0.0.1:9/', accounts: {} });
    try {
      // Within the retry delay the failure stands, without a request.
      now = 4_000;
      await expect(client.start()).rejects.toThrow(/could not be discovered/);
      now = 5_001;
      const started = await client.start();
      expect(started.url.origin).toBe(provider.issuer);
      expect(started.url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(started.pending.codeVerifier).toMatch(/^[\w-]{43}$/);
      // Each login gets its own state, nonce and verifier.
      const other = await client.start();
      expect(other.pending.state).not.toBe(started.pending.state);
      expect(other.pending.nonce).not.toBe(started.pending.nonce);
      expect(other.pending.codeVerifier).not.toBe(started.pending.codeVerifier);
    } finally {
      await provider.close();
    }
  });
});
