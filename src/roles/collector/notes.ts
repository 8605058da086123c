/**
 * The collector notes of one crash, bounded: a note repeated is kept once with its count,
 * and at most `MAX_COLLECTOR_NOTES` are kept, as annotations are capped, so that no
 * submission can make its raw crash (and the processed crash and report page built
 * from it) grow with the number of its parts.
 */

export const MAX_COLLECTOR_NOTES = 50;

export function boundedNotes(notes: readonly string[], max = MAX_COLLECTOR_NOTES): string[] {
  const counts = new Map<string, number>();
  for (const note of notes) counts.set(note, (counts.get(note) ?? 0) + 1);
  const out = [...counts].slice(0, max).map(([note, n]) => (n > 1 ? `${note} (${n} times)` : note));
  if (counts.size > max) out.push(`${counts.size - max} more collector notes not kept`);
  return out;
}
