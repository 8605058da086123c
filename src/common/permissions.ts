/**
 * What a user or API token may do. Anonymous requests have none: they see public data
 * only. The auth layer resolves a request's permissions once (from its `Auth-Token` or
 * session) and stores them on `request.permissions`; roles only ask `hasPermission`.
 * `link_bugs` adds and removes links between signatures and bugs; `view_ops` reads the
 * Operations Dashboard and its JSON (a monitoring token: it cannot remove nodes or manage
 * users); `admin` implies every other.
 */
export const PERMISSIONS = ['view_protected', 'download_dumps', 'reprocess', 'upload_symbols', 'link_bugs', 'view_ops', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth layer; absent means anonymous. */
    permissions?: ReadonlySet<Permission>;
  }
}

export function hasPermission(request: { permissions?: ReadonlySet<Permission> }, permission: Permission): boolean {
  const granted = request.permissions;
  return granted !== undefined && (granted.has(permission) || granted.has('admin'));
}
