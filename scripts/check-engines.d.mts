// Types of check-engines.mjs (plain JavaScript: it runs before the build), for its tests.
export function parseVersion(text: string): [number, number, number];
export function satisfies(version: string, range: string): boolean;
export function lowestAccepted(range: string): string;
export function readmeNodeVersion(readme: string): string | undefined;
export function installedPackages(nodeModules: string): { name: string; version: string; dir: string; engine: unknown }[];
export function checkEngines(root: string): { promised: string | undefined; problems: string[]; warnings: string[] };
