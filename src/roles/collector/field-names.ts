/**
 * Annotation names as each client family sends them, and the canonical names Mayday's
 * processor reads. Breakpad's own clients send `prod`/`ver`; Crashpad (Chromium's
 * reporter) adds `channel`, `ptype`, `guid`; Electron's crashReporter sends the app's
 * `_productName`/`_version`/`_companyName` *and* `prod=Electron`/`ver=<Electron version>`,
 * which is why the aliases of a name are ranked: a more specific one wins over a generic
 * one whatever the order of parts, and a canonical name the client sent itself wins over
 * every alias.
 *
 * Nothing is renamed away: the stored raw crash keeps every annotation under the name it
 * was sent with, and gains the canonical name (recorded in `metadata.annotation_sources`).
 */
export const CANONICAL_ALIASES: Readonly<Record<string, readonly string[]>> = {
  ProductName: ['_productName', 'prod', 'product'],
  Version: ['_version', 'ver', 'version'],
  ReleaseChannel: ['channel', 'release_channel'],
  Vendor: ['_companyName', 'vendor'],
  BuildID: ['build_id', 'buildid'],
  ProcessType: ['process_type', 'ptype'],
  Platform: ['platform'],
  ClientID: ['guid'],
  Email: ['email'],
  URL: ['url'],
  Comments: ['comments'],
};

export interface Normalised {
  annotations: Record<string, string>;
  /** Canonical name -> the alias its value was taken from. */
  sources: Record<string, string>;
}

export function normaliseFieldNames(annotations: Readonly<Record<string, string>>): Normalised {
  const out: Record<string, string> = { ...annotations };
  const sources: Record<string, string> = {};
  for (const [canonical, aliases] of Object.entries(CANONICAL_ALIASES)) {
    if (annotations[canonical] !== undefined) continue;
    const alias = aliases.find((a) => annotations[a] !== undefined && annotations[a] !== '');
    if (alias === undefined) continue;
    out[canonical] = annotations[alias];
    sources[canonical] = alias;
  }
  return { annotations: out, sources };
}

/** Every sent name that feeds a canonical one, so that protection follows the value. */
export function namesFeeding(canonical: string): readonly string[] {
  return [canonical, ...(CANONICAL_ALIASES[canonical] ?? [])];
}
