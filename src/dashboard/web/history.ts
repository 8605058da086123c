/**
 * A component's history from `/api/ops/history` (one point a minute for a day, one every ten
 * minutes for a week): fetched for the chosen range and again every minute. A node without
 * the history store answers 404: that is "no history yet", not an error.
 */

import { useEffect, useState } from 'preact/hooks';
import { RANGES, historyUrl, type RangeId } from './history-data.js';
import type { History } from './types.js';

const REFRESH_MS = 60_000;

export type HistoryState =
  | { kind: 'loading' }
  | { kind: 'none' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; history: History; from: number; to: number };

export function useHistory(component: string, range: RangeId): HistoryState {
  const [state, setState] = useState<HistoryState>({ kind: 'loading' });
  useEffect(() => {
    let current = true;
    const ms = RANGES.find((r) => r.id === range)?.ms ?? RANGES[0].ms;
    const load = async (): Promise<void> => {
      const to = Date.now();
      const from = to - ms;
      try {
        const response = await fetch(historyUrl(component, from, to), { headers: { accept: 'application/json' } });
        if (!current) return;
        if (response.status === 404) return setState({ kind: 'none' });
        if (!response.ok) return setState({ kind: 'error', message: `the node answered ${response.status}` });
        const history = (await response.json()) as History;
        if (!current) return;
        setState(Array.isArray(history.points) && history.points.length > 0 ? { kind: 'ready', history, from, to } : { kind: 'none' });
      } catch (error) {
        if (current) setState({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
      }
    };
    setState({ kind: 'loading' });
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [component, range]);
  return state;
}

