/**
 * The live overview: `/api/ops/stream` (Server-Sent Events, one `overview` every 2 s). The
 * browser reconnects an event stream by itself after a dropped connection, but not after
 * an HTTP error, and never notices a connection that stays open and goes silent (a proxy
 * holding it): both are handled here, and the page is told so it can say so.
 */

import { useEffect, useState } from 'preact/hooks';
import { RateTracker } from './rates.js';
import type { Overview } from './types.js';

export const STREAM_URL = '/api/ops/stream';

/** No event for this long on an open stream: it is taken for broken and opened again. */
const SILENCE_MS = 10_000;
const RETRY_MIN_MS = 2_000;
const RETRY_MAX_MS = 30_000;

export type StreamState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  /** The stream works but the node could not read the registry or the queue. */
  | { kind: 'failing'; reason: string }
  | { kind: 'broken'; reason: string; retryAt: number };

export interface LiveOverview {
  overview?: Overview;
  state: StreamState;
  /** When the browser last got an overview (its own clock, for "N s ago"). */
  receivedAt?: number;
}

export function useOverview(): LiveOverview {
  const [live, setLive] = useState<LiveOverview>({ state: { kind: 'connecting' } });

  useEffect(() => {
    const rates = new RateTracker();
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let closed = false;

    const broken = (reason: string): void => {
      source?.close();
      source = undefined;
      clearTimeout(watchdog);
      if (closed) return;
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** failures);
      failures++;
      setLive((l) => ({ ...l, state: { kind: 'broken', reason, retryAt: Date.now() + delay } }));
      clearTimeout(retry);
      retry = setTimeout(connect, delay);
    };

    const heard = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => broken(`no update for ${SILENCE_MS / 1000} s`), SILENCE_MS);
    };

    const connect = (): void => {
      if (closed) return;
      const es = new EventSource(STREAM_URL);
      source = es;
      heard();
      es.addEventListener('overview', (event) => {
        heard();
        failures = 0;
        let overview: Overview;
        try {
          overview = JSON.parse((event as MessageEvent<string>).data) as Overview;
        } catch {
          return;
        }
        overview.components = rates.apply(overview.components);
        setLive({ overview, state: { kind: 'live' }, receivedAt: Date.now() });
      });
      es.addEventListener('failure', (event) => {
        heard();
        let reason = 'the node could not read the registry or the queue';
        try {
          reason = (JSON.parse((event as MessageEvent<string>).data) as { error?: string }).error ?? reason;
        } catch {
          // The default reason says enough.
        }
        setLive((l) => ({ ...l, state: { kind: 'failing', reason } }));
      });
      es.addEventListener('error', () => {
        if (es !== source) return;
        // CONNECTING: the browser retries by itself; CLOSED: it gave up (an HTTP error), so ask why.
        if (es.readyState === EventSource.CONNECTING) {
          setLive((l) => ({ ...l, state: { kind: 'broken', reason: 'the connection to the node was lost', retryAt: Date.now() + RETRY_MIN_MS } }));
          return;
        }
        void whyRefused().then((reason) => broken(reason));
      });
    };

    connect();
    return () => {
      closed = true;
      source?.close();
      clearTimeout(retry);
      clearTimeout(watchdog);
    };
  }, []);

  return live;
}

/** The stream gives no status code to script: the JSON twin of the same data does. */
async function whyRefused(): Promise<string> {
  try {
    const response = await fetch('/api/ops/overview', { headers: { accept: 'application/json' } });
    if (response.status === 401 || response.status === 403) return 'not allowed: log in with an account that has the admin permission';
    if (!response.ok) return `the node answered ${response.status}`;
    return 'the event stream was refused';
  } catch {
    return 'the node cannot be reached';
  }
}
