import { DEFAULT_FIELD_CATALOG, type FieldCatalog } from '../../schema/field-catalog.js';
import { namesFeeding } from './field-names.js';

/**
 * Annotations holding personal or sensitive data (the user's URL, e-mail, comments, the
 * app's free notes, and the annotations of fields the configuration declares protected),
 * as the node's field catalog declares them, and every alias that feeds them. The
 * collector lists the ones present in `metadata.protected_annotations` so the web app
 * can redact them from the raw crash for viewers without the permission.
 */
export function protectedAnnotationMatcher(catalog: FieldCatalog = DEFAULT_FIELD_CATALOG): (annotations: Readonly<Record<string, string>>) => string[] {
  const names: ReadonlySet<string> = new Set([...catalog.protectedAnnotations].flatMap((name) => namesFeeding(name)));
  return (annotations) =>
    Object.keys(annotations)
      .filter((name) => names.has(name))
      .sort();
}

const BUILT_IN = protectedAnnotationMatcher();

export function protectedAnnotationNames(annotations: Readonly<Record<string, string>>, catalog?: FieldCatalog): string[] {
  return catalog ? protectedAnnotationMatcher(catalog)(annotations) : BUILT_IN(annotations);
}
