/** The deployment as a zip of its INI files, and the graph as SVG, PNG, DOT or Mermaid. */

import { useState } from 'preact/hooks';
import type { Deployment, DeploymentFile } from '../deployment.js';
import { renderDot } from '../graph/dot.js';
import { renderMermaid } from '../graph/mermaid.js';
import { deploymentZip, saveBlob, svgToPng } from './download.js';

interface Props {
  files: DeploymentFile[];
  deployment: Deployment | undefined;
  svg: string | undefined;
}

export function Downloads({ files, deployment, svg }: Props) {
  const [problem, setProblem] = useState<string | undefined>();
  const errors = deployment?.findings.filter((f) => f.severity === 'error').length ?? 0;
  const guard = (action: () => Promise<void> | void) => async () => {
    setProblem(undefined);
    try {
      await action();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };
  const text = (body: string, type: string, name: string) => saveBlob(new Blob([body], { type }), name);

  return (
    <div class="cfg-downloads" data-testid="downloads">
      <button
        type="button"
        data-testid="download-zip"
        disabled={files.length === 0}
        title={errors > 0 ? `The deployment has ${errors} errors: mayday run would refuse some of these files` : 'The INI files, ready for mayday run --config FILE'}
        onClick={guard(() => saveBlob(new Blob([new Uint8Array(deploymentZip(files))], { type: 'application/zip' }), 'mayday-deployment.zip'))}
      >
        Download .zip
      </button>
      <span class="muted small">graph:</span>
      <button type="button" class="secondary small" data-testid="download-svg" disabled={!svg} onClick={guard(() => text(`<?xml version="1.0" encoding="UTF-8"?>\n${svg!}`, 'image/svg+xml', 'mayday-deployment.svg'))}>
        SVG
      </button>
      <button type="button" class="secondary small" data-testid="download-png" disabled={!svg} onClick={guard(async () => saveBlob(await svgToPng(svg!), 'mayday-deployment.png'))}>
        PNG
      </button>
      <button type="button" class="secondary small" data-testid="download-dot" disabled={!deployment} onClick={guard(() => text(renderDot(deployment!.graph, deployment!.findings), 'text/vnd.graphviz', 'mayday-deployment.dot'))}>
        DOT
      </button>
      <button type="button" class="secondary small" data-testid="download-mermaid" disabled={!deployment} onClick={guard(() => text(renderMermaid(deployment!.graph, deployment!.findings), 'text/plain', 'mayday-deployment.mmd'))}>
        Mermaid
      </button>
      {problem && <span class="cfg-error">{problem}</span>}
    </div>
  );
}
