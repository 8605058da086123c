/**
 * Rates the browser derives from running totals, for nodes whose heartbeat reports the
 * totals but not (yet) the rate: the difference between two heartbeats over the time
 * between them. A heartbeat comes every `node.heartbeat_interval`, the stream every 2 s,
 * so a rate is kept until the node's next heartbeat.
 */

import { DERIVABLE } from './stats.js';
import type { ComponentView } from './types.js';

interface Seen {
  lastSeen: number;
  totals: Record<string, number>;
  rates: Record<string, number>;
}

export class RateTracker {
  private readonly seen = new Map<string, Seen>();

  /** The components, with each derivable rate the node did not report filled in when it can be. */
  apply(components: readonly ComponentView[]): ComponentView[] {
    const next = new Map<string, Seen>();
    const out = components.map((component) => {
      const before = this.seen.get(component.id);
      const totals: Record<string, number> = {};
      let rates: Record<string, number> = {};
      for (const def of DERIVABLE) {
        if (component.stats[def.key] !== undefined || !def.counter) continue;
        const values = def.counter.map((key) => component.stats[key]);
        if (values.some((v) => v === undefined)) continue;
        totals[def.key] = values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
      }
      if (before && component.lastSeen === before.lastSeen) {
        rates = before.rates;
      } else if (before) {
        const seconds = (component.lastSeen - before.lastSeen) / 1000;
        for (const def of DERIVABLE) {
          const now = totals[def.key];
          const then = before.totals[def.key];
          // A restart resets the totals: no rate rather than a negative one.
          if (now === undefined || then === undefined || seconds <= 0 || now < then) continue;
          rates[def.key] = ((now - then) / seconds) * (def.scale ?? 1);
        }
      }
      next.set(component.id, { lastSeen: component.lastSeen, totals, rates });
      // A down node's last rates are history, not throughput.
      return component.status === 'down' ? component : { ...component, stats: { ...rates, ...component.stats } };
    });
    this.seen.clear();
    for (const [id, seen] of next) this.seen.set(id, seen);
    return out;
  }
}
