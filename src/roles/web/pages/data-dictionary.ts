import type { FieldCatalog } from '../../../schema/field-catalog.js';
import type { FieldSpec } from '../../../schema/processed-crash.js';
import { FIELD_ALIASES } from '../super-search-params.js';
import { html, type Html } from '../html.js';
import { page } from '../layout.js';

export interface DataDictionaryView {
  fields: FieldCatalog;
}

/**
 * Socorro's data dictionary: every processed crash field, built-in and declared in this
 * deployment's configuration, with its type, meaning, the annotations that feed it,
 * whether Super Search can filter, facet and sort on it, and whether it is protected.
 * Protected fields are listed for everyone (that a field exists is no secret; its values
 * are), marked, so a viewer knows what asking for `view_protected` would show.
 */
export function dataDictionaryPage(view: DataDictionaryView): string {
  const { fields } = view;
  const builtIn = fields.fields.filter((f) => !f.custom);
  const aliases = new Map(Object.entries(FIELD_ALIASES).map(([alias, target]) => [target, alias]));
  const body = html`<h1>Data dictionary <span class="badge">${fields.fields.length} fields</span></h1>
  <div class="card muted">Every field of a processed crash. <strong>Searchable</strong> fields can be filtered, faceted and sorted on in
  <a href="/search/">Super Search</a> and <a href="/api/SuperSearch/">/api/SuperSearch/</a> (the same list, in Socorro's shape, is at
  <a href="/api/SuperSearchFields/">/api/SuperSearchFields/</a>). <strong>Protected</strong> fields hold personal or sensitive data: their values
  are shown only to viewers with the <code>view_protected</code> permission. Fields marked <em>declared</em> come from this deployment's
  configuration (<code>[annotations.fields.NAME]</code>, see docs/search.md): the application's own annotations.</div>
  ${fields.custom.length > 0 ? html`<h2 id="declared">Declared by this deployment</h2>${fieldTable(fields.custom, aliases, 'declared-fields')}` : ''}
  <h2 id="built-in">Built-in fields</h2>
  ${fieldTable(builtIn, aliases, 'built-in-fields')}`;
  return page('Data dictionary', body);
}

function fieldTable(specs: readonly FieldSpec[], aliases: ReadonlyMap<string, string>, id: string): Html {
  return html`<table id="${id}"><thead><tr><th>Field</th><th>Type</th><th>Description</th><th>Source annotations</th><th>Searchable</th><th>Protected</th></tr></thead><tbody>${specs.map(
    (spec) => html`<tr id="field-${spec.name}" data-field="${spec.name}">
      <td class="mono nowrap">${spec.name}${aliases.has(spec.name) ? html`<div class="muted">Super Search: <code>${aliases.get(spec.name)}</code></div>` : ''}${spec.custom ? html` <span class="badge">declared</span>` : ''}</td>
      <td class="mono">${spec.type}</td>
      <td>${spec.description}</td>
      <td class="mono">${spec.annotations && spec.annotations.length > 0 ? spec.annotations.join(', ') : html`<span class="muted">—</span>`}</td>
      <td>${spec.searchable ? html`<span class="badge ok">yes</span>` : html`<span class="muted">no</span>`}</td>
      <td>${spec.protected ? html`<span class="badge err" title="Values shown only with view_protected">protected</span>` : html`<span class="muted">no</span>`}</td>
    </tr>`,
  )}</tbody></table>`;
}
