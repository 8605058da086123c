#!/usr/bin/env node
/**
 * Fails when an installed package (any depth of node_modules, dev dependencies included:
 * the tests run on them) says in `engines.node` that it does not run on the oldest Node.js
 * this project promises: the lowest version package.json's `engines.node` accepts, which
 * the README must name too ("Node.js 20.19 or newer"). Run by `npm test` before anything
 * else, so that a dependency update that drops that Node version is caught in CI rather
 * than by a user.
 *
 *   node scripts/check-engines.mjs [--root DIR]
 *
 * Plain JavaScript without dependencies (it runs before the build): the engines ranges are
 * read with the subset of semver's range grammar they use (`>=`, `>`, `<`, `<=`, `=`, `^`,
 * `~`, x-ranges, hyphen ranges, `||`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @typedef {[number, number, number]} Version */
/** @typedef {{ min: Version, minInclusive: boolean, max?: Version, maxInclusive?: boolean }} Interval */

/** @param {Version} a @param {Version} b */
function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * `20.19.1` or a partial one (`20`, `20.x`, `*`): the given numbers, `undefined` from the
 * first wildcard on. Pre-release tags are dropped (a Node release has none).
 * @param {string} text
 * @returns {(number | undefined)[]}
 */
function partial(text) {
  const core = text.replace(/^v/, '').replace(/[-+].*$/, '');
  if (core === '' || core === '*' || /^[xX]$/.test(core)) return [];
  const parts = core.split('.');
  const numbers = [];
  for (const p of parts) {
    if (/^[xX*]$/.test(p)) break;
    if (!/^\d+$/.test(p)) throw new Error(`not a version: "${text}"`);
    numbers.push(Number(p));
  }
  if (parts.length > 3) throw new Error(`not a version: "${text}"`);
  return numbers;
}

/** @param {(number | undefined)[]} p @returns {Version} */
const floor = (p) => [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0];

/** The first version past every version a partial one stands for (`20.19` -> 20.20.0). @param {(number | undefined)[]} p @returns {Version} */
function pastPartial(p) {
  if (p.length === 3) return [p[0], p[1], p[2] + 1];
  if (p.length === 2) return [p[0], p[1] + 1, 0];
  return [p[0] + 1, 0, 0];
}

const ANY = /** @type {Interval} */ ({ min: [0, 0, 0], minInclusive: true });

/**
 * One comparator (`>=20.19`, `^18`, `~1.2.3`, `20.x`) as an interval.
 * @param {string} comparator
 * @returns {Interval}
 */
function comparatorInterval(comparator) {
  const m = /^(>=|<=|>|<|=|\^|~>?|)\s*(.*)$/.exec(comparator);
  if (!m) throw new Error(`cannot read "${comparator}"`);
  const [, op, text] = m;
  const p = partial(text);
  if (p.length === 0) return op === '<' ? { min: [0, 0, 0], minInclusive: true, max: [0, 0, 0], maxInclusive: false } : ANY;
  switch (op) {
    case '>=':
      return { min: floor(p), minInclusive: true };
    case '>':
      return p.length === 3 ? { min: floor(p), minInclusive: false } : { min: pastPartial(p), minInclusive: true };
    case '<':
      return { ...ANY, max: floor(p), maxInclusive: false };
    case '<=':
      return p.length === 3 ? { ...ANY, max: floor(p), maxInclusive: true } : { ...ANY, max: pastPartial(p), maxInclusive: false };
    case '^': {
      // The first non-zero part may not change (^0.2.3 < 0.3.0), as semver has it.
      const [major, minor] = p;
      const max = major > 0 || p.length === 1 ? [major + 1, 0, 0] : minor > 0 || p.length === 2 ? [0, (minor ?? 0) + 1, 0] : [0, 0, (p[2] ?? 0) + 1];
      return { min: floor(p), minInclusive: true, max: /** @type {Version} */ (max), maxInclusive: false };
    }
    case '~':
    case '~>':
      return { min: floor(p), minInclusive: true, max: p.length === 1 ? [p[0] + 1, 0, 0] : [p[0], p[1] + 1, 0], maxInclusive: false };
    default:
      // `=` or bare: exactly that version, or everything a partial one stands for.
      return p.length === 3 ? { min: floor(p), minInclusive: true, max: floor(p), maxInclusive: true } : { min: floor(p), minInclusive: true, max: pastPartial(p), maxInclusive: false };
  }
}

/**
 * The alternatives (`||`) of a range, each the comparators every accepted version meets.
 * @param {string} range
 * @returns {Interval[][]}
 */
export function parseRange(range) {
  if (typeof range !== 'string') throw new Error('engines.node is not a string');
  return range.split('||').map((alternative) => {
    const text = alternative.trim().replace(/(>=|<=|>|<|=|\^|~>?)\s+/g, '$1');
    if (text === '') return [ANY];
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
    if (hyphen) {
      const [low, high] = [partial(hyphen[1]), partial(hyphen[2])];
      return [{ min: floor(low), minInclusive: true }, high.length === 3 ? { ...ANY, max: floor(high), maxInclusive: true } : high.length === 0 ? ANY : { ...ANY, max: pastPartial(high), maxInclusive: false }];
    }
    return text.split(/\s+/).map(comparatorInterval);
  });
}

/** @param {string} text @returns {Version} */
export function parseVersion(text) {
  const p = partial(text);
  if (p.length !== 3) throw new Error(`not a full version: "${text}"`);
  return floor(p);
}

/** @param {Version} v @param {Interval} i */
function within(v, i) {
  const low = compare(v, i.min);
  if (low < 0 || (low === 0 && !i.minInclusive)) return false;
  if (i.max === undefined) return true;
  const high = compare(v, i.max);
  return high < 0 || (high === 0 && i.maxInclusive === true);
}

/**
 * Whether `version` (e.g. "20.19.0") satisfies the engines range (e.g. ">=18 <19 || >=20").
 * @param {string} version
 * @param {string} range
 */
export function satisfies(version, range) {
  const v = parseVersion(version);
  return parseRange(range).some((alternative) => alternative.every((interval) => within(v, interval)));
}

/**
 * The oldest version a range accepts (`>=20.19` -> "20.19.0"): what a project promises to
 * run on.
 * @param {string} range
 */
export function lowestAccepted(range) {
  /** @type {Version | undefined} */
  let lowest;
  for (const alternative of parseRange(range)) {
    /** @type {Version} */
    let low = [0, 0, 0];
    for (const i of alternative) if (compare(i.min, low) > 0) low = i.min;
    if (!alternative.every((i) => within(low, i))) continue;
    if (lowest === undefined || compare(low, lowest) < 0) lowest = low;
  }
  if (lowest === undefined) throw new Error(`"${range}" accepts no version`);
  return lowest.join('.');
}

/**
 * The Node.js version the README names ("Node.js 20.19 or newer"), as written.
 * @param {string} readme
 */
export function readmeNodeVersion(readme) {
  const m = /Node\.js (\d+(?:\.\d+){0,2}) or newer/.exec(readme);
  return m ? m[1] : undefined;
}

/**
 * Every installed package: name, directory and `engines.node` (if any), from each
 * node_modules at any depth.
 * @param {string} nodeModules
 * @returns {{ name: string, version: string, dir: string, engine: unknown }[]}
 */
export function installedPackages(nodeModules) {
  const found = [];
  /** @param {string} dir */
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        walk(path);
        continue;
      }
      const manifest = join(path, 'package.json');
      if (existsSync(manifest)) {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
        found.push({ name: pkg.name ?? entry.name, version: pkg.version ?? '?', dir: path, engine: pkg.engines?.node });
      }
      walk(join(path, 'node_modules'));
    }
  };
  walk(nodeModules);
  return found;
}

/**
 * What is wrong: the README and package.json disagree, or installed packages refuse the
 * promised version. Empty when all is well.
 * @param {string} root
 * @returns {{ promised: string | undefined, problems: string[], warnings: string[] }}
 */
export function checkEngines(root) {
  const problems = [];
  const warnings = [];
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const range = pkg.engines?.node;
  if (typeof range !== 'string') return { promised: undefined, problems: ['package.json has no engines.node'], warnings };
  const promised = lowestAccepted(range);
  const readmePath = join(root, 'README.md');
  const named = existsSync(readmePath) ? readmeNodeVersion(readFileSync(readmePath, 'utf8')) : undefined;
  if (named === undefined) problems.push('README.md names no Node.js version ("Node.js X.Y or newer")');
  else if (lowestAccepted(`>=${named}`) !== promised) problems.push(`README.md says Node.js ${named} or newer, package.json engines.node "${range}" starts at ${promised}`);
  for (const p of installedPackages(join(root, 'node_modules'))) {
    if (p.engine === undefined || p.engine === '') continue;
    let ok;
    try {
      ok = satisfies(promised, /** @type {string} */ (p.engine));
    } catch (error) {
      warnings.push(`${p.name}@${p.version}: engines.node ${JSON.stringify(p.engine)} cannot be read (${/** @type {Error} */ (error).message}); not checked`);
      continue;
    }
    if (!ok) problems.push(`${p.name}@${p.version} (${p.dir.slice(root.length + 1)}) wants Node.js "${p.engine}", which excludes ${promised}`);
  }
  return { promised, problems, warnings };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--root');
  const root = resolve(i >= 0 ? process.argv[i + 1] : join(fileURLToPath(import.meta.url), '../..'));
  const { promised, problems, warnings } = checkEngines(root);
  for (const w of warnings) process.stderr.write(`check-engines: warning: ${w}\n`);
  if (problems.length > 0) {
    process.stderr.write(`check-engines: the project promises Node.js ${promised ?? '(unknown)'}, but:\n${problems.map((p) => `  ${p}\n`).join('')}`);
    process.stderr.write('Pin or override the package to a version that accepts it (package.json "overrides"), or raise engines.node and the README together.\n');
    process.exit(1);
  }
  process.stdout.write(`check-engines: every installed package accepts Node.js ${promised}\n`);
}
