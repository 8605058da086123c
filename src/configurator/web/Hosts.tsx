/** The left column: hosts with their nodes (add, remove, move), and the shared files. */

import { useState } from 'preact/hooks';
import { ROLES, type Role } from '../../config/schema.js';
import type { Deployment, DeploymentFile, DeploymentNode } from '../deployment.js';
import { addNode, freePort, hostGroups, moveNode, removeFile, suggestName } from './model.js';

interface Props {
  files: DeploymentFile[];
  deployment: Deployment | undefined;
  shared: string[];
  extraHosts: string[];
  selected: string | undefined;
  onSelect: (file: string) => void;
  onFiles: (change: (files: DeploymentFile[]) => DeploymentFile[]) => void;
  onExtraHosts: (hosts: string[]) => void;
}

const HOST_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/;

export function Hosts({ files, deployment, shared, extraHosts, selected, onSelect, onFiles, onExtraHosts }: Props) {
  const [adding, setAdding] = useState<string | undefined>();
  const [newHost, setNewHost] = useState('');
  const groups = hostGroups(deployment, extraHosts);
  const hosts = groups.map((g) => g.host);
  const worst = (file: string): 'error' | 'warning' | undefined => {
    const mine = (deployment?.findings ?? []).filter((f) => f.file === file);
    return mine.some((f) => f.severity === 'error') ? 'error' : mine.length > 0 ? 'warning' : undefined;
  };
  const hostError = newHost !== '' && !HOST_PATTERN.test(newHost) ? 'a host name or an IP address' : hosts.includes(newHost) ? 'that host is listed already' : undefined;

  return (
    <div data-testid="hosts">
      <h2>Hosts and nodes</h2>
      {groups.map(({ host, nodes }) => (
        <div class="cfg-host" key={host} data-testid="host" data-host={host}>
          <div class="cfg-host-head">
            <b>{host}</b>
            <span class="muted">{nodes.length === 1 ? '1 node' : `${nodes.length} nodes`}</span>
            {nodes.length === 0 && (
              <button type="button" class="link" title="Remove this host" data-testid={`remove-host-${host}`} onClick={() => onExtraHosts(extraHosts.filter((h) => h !== host))}>
                remove
              </button>
            )}
          </div>
          <ul class="cfg-nodes">
            {nodes.map((node) => (
              <NodeRow
                key={node.file}
                node={node}
                hosts={hosts}
                selected={selected === node.file}
                problem={worst(node.file)}
                onSelect={() => onSelect(node.file)}
                onMove={(to) => onFiles((fs) => moveNode(fs, node, to))}
                onRemove={() => {
                  if (confirm(`Remove ${node.id} (${node.file}) from the deployment?`)) onFiles((fs) => removeFile(fs, node.file));
                }}
              />
            ))}
          </ul>
          {adding === host ? (
            <AddNode
              host={host}
              deployment={deployment}
              files={files}
              onCancel={() => setAdding(undefined)}
              onAdd={(plan) => {
                const result = addNode(files, plan);
                onFiles(() => result.files);
                onSelect(result.file);
                setAdding(undefined);
              }}
            />
          ) : (
            <button type="button" class="secondary small" data-testid={`add-node-${host}`} onClick={() => setAdding(host)}>
              + node on {host}
            </button>
          )}
        </div>
      ))}
      <div class="cfg-add-host">
        <input value={newHost} placeholder="new host name" onInput={(e) => setNewHost(e.currentTarget.value.trim())} data-testid="new-host" />
        <button
          type="button"
          class="secondary small"
          disabled={newHost === '' || hostError !== undefined}
          data-testid="add-host"
          onClick={() => {
            onExtraHosts([...extraHosts, newHost]);
            setNewHost('');
          }}
        >
          + host
        </button>
        {hostError && <div class="cfg-error">{hostError}</div>}
      </div>
      {shared.length > 0 && (
        <div class="cfg-shared" data-testid="shared-files">
          <h3>Shared</h3>
          <ul class="cfg-nodes">
            {shared.map((name) => (
              <li key={name} class={selected === name ? 'on' : ''} data-testid="shared-file" data-file={name}>
                <button type="button" class="link" onClick={() => onSelect(name)}>
                  {name}
                </button>
                <span class={`cfg-dot ${worst(name) ?? ''}`} />
                <span class="muted small">included by every node file</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function NodeRow(props: { node: DeploymentNode; hosts: string[]; selected: boolean; problem: 'error' | 'warning' | undefined; onSelect: () => void; onMove: (host: string) => void; onRemove: () => void }) {
  const { node, hosts, selected, problem } = props;
  return (
    <li class={selected ? 'on' : ''} data-testid="node" data-node={node.id} data-file={node.file}>
      <div class="cfg-node-line">
        <button type="button" class="link cfg-node-name" onClick={props.onSelect} title={node.file} data-testid={`select-${node.id}`}>
          {node.id}
        </button>
        <span class={`cfg-dot ${problem ?? ''}`} title={problem ? `this file has ${problem}s` : undefined} />
        <span class="cfg-spacer" />
        <span class="muted small">port {node.config.web.port}</span>
      </div>
      <div class="cfg-roles">
        {node.roles.map((r) => (
          <span key={r} class={`badge role-${r}`}>
            {r}
          </span>
        ))}
        <span class="cfg-spacer" />
        <select
          class="small"
          title="Move to another host"
          data-testid={`move-${node.id}`}
          value=""
          onChange={(e) => {
            const to = e.currentTarget.value;
            e.currentTarget.value = '';
            if (to) props.onMove(to);
          }}
        >
          <option value="">move…</option>
          {hosts
            .filter((h) => h !== node.host)
            .map((h) => (
              <option key={h} value={h}>
                to {h}
              </option>
            ))}
        </select>
        <button type="button" class="link danger" title={`Remove ${node.id} (${node.file})`} data-testid={`remove-${node.id}`} onClick={props.onRemove}>
          ✕
        </button>
      </div>
    </li>
  );
}

function AddNode(props: { host: string; deployment: Deployment | undefined; files: DeploymentFile[]; onAdd: (plan: { name: string; host: string; roles: Role[]; port: number }) => void; onCancel: () => void }) {
  const { host, deployment, files } = props;
  const [roles, setRoles] = useState<Role[]>(['collector']);
  const [name, setName] = useState<string | undefined>();
  const [port, setPort] = useState<string | undefined>();
  const shownName = name ?? suggestName(deployment, files, roles[0] ?? 'node');
  const shownPort = port ?? String(freePort(deployment, host));
  const nameProblem = !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(shownName)
    ? 'letters, digits, "_", "." and "-"'
    : files.some((f) => f.name === `${shownName}.ini`) || deployment?.nodes.some((n) => n.id === shownName)
      ? 'a node or file of that name exists'
      : undefined;
  const portNumber = Number(shownPort);
  const portProblem = !/^\d+$/.test(shownPort) || portNumber < 1 || portNumber > 65535 ? 'a port from 1 to 65535' : undefined;
  const problem = nameProblem ?? portProblem ?? (roles.length === 0 ? 'choose at least one role' : undefined);
  return (
    <form
      class="cfg-add-node"
      data-testid="add-node-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!problem) props.onAdd({ name: shownName, host, roles, port: portNumber });
      }}
    >
      <div class="cfg-role-choices">
        {ROLES.map((role) => (
          <label key={role}>
            <input
              type="checkbox"
              checked={roles.includes(role)}
              data-testid={`add-node-role-${role}`}
              onChange={(e) => setRoles((rs) => (e.currentTarget.checked ? ROLES.filter((r) => r === role || rs.includes(r)) : rs.filter((r) => r !== role)))}
            />
            {role}
          </label>
        ))}
      </div>
      <label class="cfg-label">
        Name
        <input value={shownName} onInput={(e) => setName(e.currentTarget.value.trim())} data-testid="add-node-name" />
      </label>
      <label class="cfg-label">
        Port (free on {host})
        <input value={shownPort} inputMode="numeric" onInput={(e) => setPort(e.currentTarget.value.trim())} data-testid="add-node-port" />
      </label>
      {problem && <div class="cfg-error">{problem}</div>}
      <div class="cfg-row">
        <button type="submit" disabled={problem !== undefined} data-testid="add-node-submit">
          Add node
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
