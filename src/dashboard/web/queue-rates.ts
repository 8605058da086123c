/** A queue's rates as the Queues table shows them (pure, so that it is tested without a browser). */

import type { QueueRates } from '../../common/queue-figures.js';
import { digits } from './format.js';

/** `in/s · out/s`, or a dash when no running node reports the rates. */
export function queueRatesText(q: Partial<QueueRates>): string {
  if (q.enqueuedPerSecond === undefined || q.dequeuedPerSecond === undefined) return '\u2014';
  return `${digits(q.enqueuedPerSecond)}/s \u00b7 ${digits(q.dequeuedPerSecond)}/s`;
}
