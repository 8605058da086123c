/** Small hooks shared by the Dashboard's pages. */

import { useEffect, useState } from 'preact/hooks';

/** The current time, re-read every `periodMs`: for "N s ago" texts that must keep counting. */
export function useNow(periodMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}

/** The session's CSRF token, which the page puts in a meta tag when there is a session. */
export function csrfToken(): string | undefined {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content || undefined;
}
