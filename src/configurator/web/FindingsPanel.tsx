/** Every finding of the deployment, grouped by layer; a click shows the field at fault. */

import { LAYERS, type Finding } from '../deployment.js';

export function FindingCounts({ findings }: { findings: Finding[] }) {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  return (
    <span class="cfg-counts" data-testid="finding-counts">
      <span class={`badge ${errors > 0 ? 'err' : 'ok'}`} data-testid="count-errors" data-count={errors}>
        {errors} {errors === 1 ? 'error' : 'errors'}
      </span>{' '}
      <span class={`badge ${warnings > 0 ? 'warn' : ''}`} data-testid="count-warnings" data-count={warnings}>
        {warnings} {warnings === 1 ? 'warning' : 'warnings'}
      </span>
    </span>
  );
}

export function FindingLine({ finding, onClick, compact = false }: { finding: Finding; onClick: () => void; compact?: boolean }) {
  const where = finding.line !== undefined ? `${finding.file}:${finding.line}` : finding.file;
  return (
    <div class={`cfg-finding ${finding.severity}`} data-testid="finding" data-code={finding.code} data-severity={finding.severity} data-file={finding.file} data-option={compact ? undefined : finding.option}>
      <button type="button" class="cfg-finding-main" onClick={onClick} title="Show the field at fault">
        <span class={`badge ${finding.severity === 'error' ? 'err' : 'warn'}`}>{finding.severity}</span>
        {!compact && <code class="cfg-where">{where}</code>}
        <span class="cfg-message">{finding.message}</span>
      </button>
      {finding.hint && <div class="cfg-hint">hint: {finding.hint}</div>}
    </div>
  );
}

export function FindingsPanel({ findings, onFinding }: { findings: Finding[]; onFinding: (finding: Finding) => void }) {
  return (
    <div class="card cfg-findings" data-testid="findings">
      <div class="cfg-panel-head">
        <h2>Findings</h2>
        <FindingCounts findings={findings} />
      </div>
      {findings.length === 0 && (
        <div class="cfg-clean" data-testid="findings-clean">
          No problems found: the files are consistent with each other. (The environment, whether the services answer and the directories exist, is checked by <code>mayday config validate</code> on the machines.)
        </div>
      )}
      {LAYERS.map((layer) => {
        const mine = findings.filter((f) => f.layer === layer).sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
        if (mine.length === 0) return null;
        return (
          <div key={layer} class="cfg-layer" data-testid={`layer-${layer}`}>
            <h3>
              {layer} <span class="muted">({mine.length})</span>
            </h3>
            {mine.map((f, i) => (
              <FindingLine key={`${f.code}-${f.file}-${f.line}-${i}`} finding={f} onClick={() => onFinding(f)} />
            ))}
          </div>
        );
      })}
    </div>
  );
}
