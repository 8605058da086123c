/** Where a deployment starts: a preset, or files the user already has (uploaded or pasted). */

import { useState } from 'preact/hooks';
import type { DeploymentFile } from '../deployment.js';
import { presetFiles, PRESETS, type Preset } from '../presets.js';
import { cleanFileName, mergeFiles } from './model.js';

interface Props {
  /** The open deployment: imported files are added to it (same names replaced). */
  current: DeploymentFile[];
  onStart: (files: DeploymentFile[]) => void;
  onCancel: () => void;
}

const PRESET_NOTES: Record<Preset, string> = {
  'all-in-one': 'One node with every role, on embedded storage (SQLite, local files): a single machine.',
  distributed: 'A shared common.ini (PostgreSQL, RabbitMQ, S3) and a collector, two processors, a web node and a scheduler, spread over the hosts you list.',
};

export function Start({ current, onStart, onCancel }: Props) {
  const [preset, setPreset] = useState<Preset>('distributed');
  const [hosts, setHosts] = useState('');
  const [pending, setPending] = useState<DeploymentFile[]>([]);
  const [pasteName, setPasteName] = useState('');
  const [pasteText, setPasteText] = useState('');
  const [problem, setProblem] = useState<string | undefined>();

  const hostList = hosts.split(',').map((h) => h.trim()).filter((h) => h !== '');
  const badHost = hostList.find((h) => !/^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/.test(h));

  const readUploads = async (list: FileList | null): Promise<void> => {
    if (!list) return;
    const read = await Promise.all([...list].map(async (file) => ({ name: cleanFileName(file.name), text: await file.text() })));
    setPending((p) => mergeFiles(p, read));
  };

  return (
    <div class="cfg-start" data-testid="start">
      <h1>Configurator</h1>
      <p class="muted">
        Build or check the configuration of a whole Mayday deployment: one INI file per node, an optional shared file they include, validated as you type, with a live
        graph of the nodes and what they share. Everything stays in this browser until you download it.
      </p>
      {current.length > 0 && (
        <p>
          <button type="button" class="secondary" onClick={onCancel} data-testid="start-cancel">
            Back to the open deployment ({current.length} files)
          </button>
        </p>
      )}
      <div class="cfg-start-grid">
        <div class="card">
          <h2>Start from a preset</h2>
          {PRESETS.map((p) => (
            <label class="cfg-choice" key={p}>
              <input type="radio" name="preset" value={p} checked={preset === p} onChange={() => setPreset(p)} data-testid={`preset-${p}`} />
              <span>
                <b>{p}</b>
                <br />
                <span class="muted">{PRESET_NOTES[p]}</span>
              </span>
            </label>
          ))}
          <label class="cfg-label">
            Hosts {preset === 'all-in-one' ? '(optional: the machine it runs on)' : '(comma-separated, e.g. a,b,c; services on the first)'}
            <input value={hosts} onInput={(e) => setHosts(e.currentTarget.value)} placeholder="a,b,c" data-testid="preset-hosts" />
          </label>
          {badHost && <div class="cfg-error">"{badHost}" is not a host name or address</div>}
          <button
            type="button"
            disabled={badHost !== undefined}
            data-testid="preset-create"
            onClick={() => {
              if (current.length > 0 && !confirm('Replace the open deployment with the preset?')) return;
              onStart(presetFiles(preset, hostList));
            }}
          >
            Create {preset} deployment
          </button>
        </div>
        <div class="card">
          <h2>Import existing files</h2>
          <label class="cfg-label">
            INI files (select several: the node files and the files they include)
            <input type="file" multiple accept=".ini,text/plain" data-testid="import-files" onChange={(e) => void readUploads(e.currentTarget.files)} />
          </label>
          <label class="cfg-label">
            Or paste one file: its name
            <input value={pasteName} onInput={(e) => setPasteName(e.currentTarget.value)} placeholder="collector.ini" data-testid="paste-name" />
          </label>
          <textarea class="mono" rows={8} value={pasteText} onInput={(e) => setPasteText(e.currentTarget.value)} placeholder={'include = common.ini\n\n[node]\nname = collector\nroles = collector'} data-testid="paste-text" />
          <button
            type="button"
            class="secondary"
            data-testid="paste-add"
            onClick={() => {
              if (pasteText.trim() === '') return setProblem('paste the text of the file first');
              setProblem(undefined);
              setPending((p) => mergeFiles(p, [{ name: cleanFileName(pasteName || 'node.ini'), text: pasteText }]));
              setPasteName('');
              setPasteText('');
            }}
          >
            Add pasted file
          </button>
          {problem && <div class="cfg-error">{problem}</div>}
          {pending.length > 0 && (
            <div class="cfg-pending" data-testid="import-pending">
              <ul>
                {pending.map((f) => (
                  <li key={f.name}>
                    <code>{f.name}</code> <span class="muted">({f.text.split('\n').length} lines)</span>{' '}
                    <button type="button" class="link" onClick={() => setPending((p) => p.filter((x) => x.name !== f.name))}>
                      remove
                    </button>
                  </li>
                ))}
              </ul>
              <button type="button" data-testid="import-open" onClick={() => onStart(mergeFiles(current, pending))}>
                {current.length > 0 ? `Add ${pending.length} files to the deployment` : `Open ${pending.length} files`}
              </button>
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
