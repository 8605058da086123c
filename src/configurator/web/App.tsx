/**
 * The Configurator: hosts and nodes on the left, the selected file's form in the middle,
 * the live graph and the findings on the right. The files' text is the state; everything
 * else (nodes, graph, findings) is compiled from it.
 */

import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { DeploymentFile, Finding } from '../deployment.js';
import { Downloads } from './Downloads.js';
import { FileForm } from './FileForm.js';
import { FindingsPanel, FindingCounts } from './FindingsPanel.js';
import { GraphView } from './GraphView.js';
import { Hosts } from './Hosts.js';
import { useCompiled, useGraph } from './hooks.js';
import { findingOption, sharedFileNames } from './model.js';
import { EMPTY, loadWorkspace, saveWorkspace, type Workspace } from './persist.js';
import { Start } from './Start.js';

/** A request to bring a field into view; `seq` makes a second click on the same finding count. */
export interface FocusRequest {
  file: string;
  option?: string;
  seq: number;
}

export function App() {
  const [workspace, setWorkspace] = useState<Workspace>(loadWorkspace);
  const [starting, setStarting] = useState(workspace.files.length === 0);
  const [focus, setFocus] = useState<FocusRequest | undefined>(undefined);
  const [graphLarge, setGraphLarge] = useState(false);
  const deployment = useCompiled(workspace.files);
  const drawn = useGraph(deployment);

  useEffect(() => saveWorkspace(workspace), [workspace]);

  const shared = useMemo(() => sharedFileNames(workspace.files), [workspace.files]);
  const selected = workspace.files.some((f) => f.name === workspace.selected) ? workspace.selected : workspace.files[0]?.name;

  const updateFiles = useCallback((change: (files: DeploymentFile[]) => DeploymentFile[]) => {
    setWorkspace((w) => {
      const files = change(w.files);
      return files === w.files ? w : { ...w, files };
    });
  }, []);
  const select = useCallback((file: string) => setWorkspace((w) => ({ ...w, selected: file })), []);
  const focusFinding = useCallback(
    (finding: Finding) => {
      setWorkspace((w) => ({ ...w, selected: finding.file }));
      setGraphLarge(false);
      setFocus((f) => ({ file: finding.file, option: findingOption(finding, workspace.files), seq: (f?.seq ?? 0) + 1 }));
    },
    [workspace.files],
  );

  if (starting) {
    return (
      <Start
        current={workspace.files}
        onCancel={() => setStarting(false)}
        onStart={(files) => {
          setWorkspace({ files, extraHosts: [], selected: files.find((f) => !sharedFileNames(files).includes(f.name))?.name ?? files[0]?.name });
          setStarting(false);
        }}
      />
    );
  }

  const findings = deployment?.findings ?? [];
  return (
    <div class="cfg" data-testid="configurator">
      <div class="cfg-bar">
        <h1>Configurator</h1>
        <span class="muted">{workspace.files.length} files · {deployment?.nodes.length ?? 0} nodes</span>
        <FindingCounts findings={findings} />
        <span class="cfg-spacer" />
        <Downloads files={workspace.files} deployment={deployment} svg={drawn.graph?.svg} />
        <button
          type="button"
          class="secondary"
          data-testid="new-deployment"
          onClick={() => {
            if (workspace.files.length === 0 || confirm('Start a new deployment? The current one is replaced (download it first to keep it).')) {
              setWorkspace(EMPTY);
              setStarting(true);
            }
          }}
        >
          New…
        </button>
        <button type="button" class="secondary" data-testid="import-more" onClick={() => setStarting(true)}>
          Import…
        </button>
      </div>
      <div class={`cfg-cols ${graphLarge ? 'graph-large' : ''}`}>
        <aside class="cfg-left card">
          <Hosts
            files={workspace.files}
            deployment={deployment}
            shared={shared}
            extraHosts={workspace.extraHosts}
            selected={selected}
            onSelect={select}
            onFiles={updateFiles}
            onExtraHosts={(hosts) => setWorkspace((w) => ({ ...w, extraHosts: hosts }))}
          />
        </aside>
        <section class="cfg-middle">
          {selected ? (
            <FileForm
              key={selected}
              file={selected}
              files={workspace.files}
              deployment={deployment}
              shared={shared}
              focus={focus?.file === selected ? focus : undefined}
              onFiles={updateFiles}
              onFocusFinding={focusFinding}
            />
          ) : (
            <div class="card empty">No file: add a node on the left, or import files.</div>
          )}
        </section>
        <section class="cfg-right">
          <GraphView drawn={drawn.graph} error={drawn.error} selectedFile={selected} onSelectFile={select} onFinding={focusFinding} large={graphLarge} onLarge={setGraphLarge} />
          <FindingsPanel findings={findings} onFinding={focusFinding} />
        </section>
      </div>
    </div>
  );
}
