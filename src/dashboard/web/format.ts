/**
 * Numbers as an operator reads them: always with their unit, few digits, and the same
 * format everywhere on the page (table, graph, detail page, chart axes).
 */

export type Unit = 'percent' | 'bytes' | 'bytes_per_second' | 'per_second' | 'ms' | 'seconds' | 'ratio' | 'count' | 'load';

/** Two significant digits under 10, whole numbers above: `0.42`, `3.1`, `27`, `1 340`. */
export function digits(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs < 0.01) return value.toExponential(0);
  if (abs < 10) return String(Number(value.toPrecision(2)));
  return Math.round(value).toLocaleString('en-GB').replace(/,/g, '\u202f');
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : digits(value)} ${BYTE_UNITS[unit]}`;
}

export function formatMs(ms: number): string {
  if (Math.abs(ms) >= 1000) return `${digits(ms / 1000)} s`;
  return `${digits(ms)} ms`;
}

/** A length of time in its two largest units: `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const minutes = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
  }
  const hours = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)} d${hours ? ` ${hours} h` : ''}`;
}

export function formatAgo(seconds: number): string {
  return seconds < 1 ? 'just now' : `${formatDuration(seconds)} ago`;
}

export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  switch (unit) {
    case 'percent':
      return `${digits(value)} %`;
    case 'ratio':
      return `${digits(value * 100)} %`;
    case 'bytes':
      return formatBytes(value);
    case 'bytes_per_second':
      return `${formatBytes(value)}/s`;
    case 'per_second':
      return `${digits(value)}/s`;
    case 'ms':
      return formatMs(value);
    case 'seconds':
      return formatDuration(value);
    case 'load':
      return value.toFixed(2);
    case 'count':
      return digits(value);
  }
}

/** A clock time for "last update": the operator compares it with the wall clock. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A figure with what it counts: `12 accepted/s`, `3 MiB/s received`; `–` when unknown. */
export function formatFigure(value: number | undefined, unit: Unit, noun: string): string {
  if (value === undefined || !Number.isFinite(value)) return unit === 'per_second' ? `– ${noun}/s` : `– ${noun}`;
  if (unit === 'per_second') return `${digits(value)} ${noun}/s`;
  return `${formatValue(value, unit)} ${noun}`;
}
