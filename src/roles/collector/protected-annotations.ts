import { PROTECTED_ANNOTATIONS } from '../../schema/processed-crash.js';
import { namesFeeding } from './field-names.js';

/**
 * Annotations holding personal data (the user's URL, e-mail, comments, the app's free
 * notes), as the processed crash schema declares them, and every alias that feeds them.
 * The collector lists the ones present in `metadata.protected_annotations` so the web app
 * can redact them from the raw crash for viewers without the permission.
 */
const PROTECTED: ReadonlySet<string> = new Set([...PROTECTED_ANNOTATIONS].flatMap((name) => namesFeeding(name)));

export function protectedAnnotationNames(annotations: Readonly<Record<string, string>>): string[] {
  return Object.keys(annotations)
    .filter((name) => PROTECTED.has(name))
    .sort();
}
