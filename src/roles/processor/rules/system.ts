import type { Rule } from '../rule.js';

/**
 * A readable OS version from what the dump says: Windows NT versions and builds become
 * marketing names, macOS versions get their product name, Linux uses lsb-release.
 */
export function prettyOsVersion(osName: string | null | undefined, osVersion: string | null | undefined, lsbDescription?: string | null): string | null {
  if (!osName) return null;
  const version = (osVersion ?? '').trim();
  const numbers = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  const [major, minor, build] = numbers ? [Number(numbers[1]), Number(numbers[2]), Number(numbers[3] ?? 0)] : [NaN, NaN, NaN];
  switch (osName) {
    case 'Windows NT': {
      if (major === 10 && minor === 0) return build >= 22000 ? 'Windows 11' : 'Windows 10';
      const names: Record<string, string> = { '6.3': 'Windows 8.1', '6.2': 'Windows 8', '6.1': 'Windows 7', '6.0': 'Windows Vista', '5.2': 'Windows XP', '5.1': 'Windows XP', '5.0': 'Windows 2000' };
      return names[`${major}.${minor}`] ?? (numbers ? `Windows NT ${major}.${minor}` : 'Windows');
    }
    case 'Mac OS X': {
      if (!numbers) return 'macOS';
      if (major >= 11 || (major === 10 && minor >= 12)) return `macOS ${major}.${minor}`;
      if (major === 10 && minor >= 8) return `OS X ${major}.${minor}`;
      return `Mac OS X ${major}.${minor}`;
    }
    case 'iOS':
      return numbers ? `iOS ${major}.${minor}` : 'iOS';
    case 'Android':
      return numbers ? `Android ${major}.${minor}` : 'Android';
    case 'Linux':
      return lsbDescription?.trim() || 'Linux';
    default:
      return osName;
  }
}

export const osPrettyVersionRule: Rule = {
  name: 'os pretty version',
  act({ processed }) {
    const lsb = (processed.json_dump as { lsb_release?: { description?: string | null } | null } | undefined)?.lsb_release;
    processed.os_pretty_version = prettyOsVersion(processed.os_name as string | null, processed.os_version as string | null, lsb?.description);
  },
};
