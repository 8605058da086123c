/**
 * `mayday tokens create|list|revoke`: API tokens, managed on the node's own database
 * (found from `--data-dir` or `--config`, as `mayday start` finds it). The token text is
 * printed once, by `create`; only its hash is stored.
 */
import { parsePermissions } from '../../auth/auth-schema.js';
import type { TokenInfo, TokenStore } from '../../ports/token-store.js';
import { UserError } from '../../common/errors.js';
import { openTokenStore } from '../../node/backends.js';
import { openNodeData, type WhereOptions } from '../data-dir.js';

const DAY_MS = 86_400_000;

async function openStore(options: WhereOptions, command: string): Promise<TokenStore> {
  const { config, paths } = openNodeData(`tokens ${command}`, options);
  return openTokenStore(config, paths);
}

function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function formatTokenTable(tokens: readonly TokenInfo[]): string {
  const rows = [['ID', 'USER', 'PREFIX', 'PERMISSIONS', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE', 'DESCRIPTION']];
  const now = Date.now();
  for (const t of tokens) {
    const state = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active';
    rows.push([String(t.id), t.user, `${t.prefix}...`, t.permissions.join(','), formatTime(t.createdAt), formatTime(t.expiresAt), formatTime(t.lastUsedAt), state, t.description ?? '']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

export type CreateTokenOptions = WhereOptions & { permissions: string; user?: string; expires?: string; description?: string };

/** `mayday tokens create`. */
export async function createToken(options: CreateTokenOptions): Promise<void> {
  // A token always belongs to a user: no silent default account.
  const user = options.user;
  if (user === undefined || user.trim() === '') {
    throw new UserError('mayday tokens create: give --user NAME, the user the token belongs to (an existing user, e.g. the admin made by `mayday users create NAME --admin`, or a new one for a service such as --user ci)');
  }
  let permissions;
  try {
    permissions = parsePermissions(options.permissions);
  } catch (error) {
    throw new UserError(`mayday tokens create: ${(error as Error).message}`);
  }
  let expiresInMs: number | undefined;
  if (options.expires !== undefined) {
    const days = Number(options.expires);
    if (!(days > 0) || !Number.isFinite(days)) throw new UserError(`mayday tokens create: --expires wants a number of days, got "${options.expires}"`);
    expiresInMs = days * DAY_MS;
  }
  const store = await openStore(options, 'create');
  try {
    const { token, info } = await store.create({ user, permissions, expiresInMs, description: options.description });
    process.stdout.write(`${token}\n`);
    process.stderr.write(
      `token ${info.id} for ${info.user}: ${info.permissions.join(', ')}; ${info.expiresAt === null ? 'never expires' : `expires ${formatTime(info.expiresAt)}`}. Store it now: it cannot be shown again.\n`,
    );
  } catch (error) {
    throw new UserError(`mayday tokens create: ${(error as Error).message}`);
  } finally {
    await store.close();
  }
}

/** `mayday tokens list`. */
export async function listTokens(options: WhereOptions & { user?: string }): Promise<void> {
  const store = await openStore(options, 'list');
  try {
    process.stdout.write(formatTokenTable(await store.list({ user: options.user })));
  } finally {
    await store.close();
  }
}

/** `mayday tokens revoke`. */
export async function revokeToken(id: string, options: WhereOptions): Promise<void> {
  if (!/^\d+$/.test(id)) throw new UserError(`mayday tokens revoke: "${id}" is not a token id (a number from \`mayday tokens list\`)`);
  const store = await openStore(options, 'revoke');
  try {
    if (!(await store.revoke(Number(id)))) throw new UserError(`mayday tokens revoke: no active token ${id}`);
    process.stderr.write(`token ${id} revoked\n`);
  } finally {
    await store.close();
  }
}
