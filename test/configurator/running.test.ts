import { describe, expect, it } from 'vitest';
import { compileDeployment } from '../../src/configurator/compile.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { runningGraph, runningNodeId } from '../../src/configurator/running.js';
import type { DeploymentGraph } from '../../src/configurator/deployment.js';
import { configFingerprint } from '../../src/node/config-fingerprint.js';

/** A file-based graph with its nodes called by key (`node:name@host`), as the running graph calls them. */
function keyed(graph: DeploymentGraph): DeploymentGraph {
  const ids = new Map(graph.nodes.map((n) => [n.id, runningNodeId(n)]));
  const id = (x: string): string => ids.get(x) ?? x;
  return {
    ...graph,
    hosts: graph.hosts.map((h) => ({ ...h, nodes: h.nodes.map(id) })),
    nodes: graph.nodes.map((n) => ({ ...n, id: id(n.id) })),
    edges: graph.edges.map((e) => ({ ...e, id: `${id(e.from)}->${id(e.to)}`, from: id(e.from), to: id(e.to) })),
  };
}

describe('runningGraph', () => {
  it('draws from what running nodes report the same graph as the Configurator draws from their files, its nodes called by key', () => {
    for (const files of [presetFiles('distributed', ['a', 'b', 'c']), presetFiles('all-in-one')]) {
      const compiled = compileDeployment(files);
      const running = runningGraph(compiled.nodes.map((n) => ({ name: n.id, host: n.host, roles: n.roles, config: configFingerprint(n.config).shared })));
      const expected = keyed(compiled.graph);
      expect(running.resources).toEqual(expected.resources);
      expect(running.edges).toEqual(expected.edges);
      expect(running.hosts).toEqual(expected.hosts);
      expect(running.nodes.map(({ file: _file, ...rest }) => rest)).toEqual(expected.nodes.map(({ file: _file, ...rest }) => rest));
      // The Configurator's own graph still calls nodes by name: in files, names are unique.
      expect(compiled.graph.nodes.every((n) => n.id === `node:${n.name}`)).toBe(true);
    }
    expect(runningGraph([]).nodes).toEqual([]);
  });

  it('draws namesakes on two hosts as two boxes, each with its own edges, labelled with the name', () => {
    const processor = compileDeployment(presetFiles('distributed', ['a', 'b', 'c'])).nodes.find((n) => n.id === 'processor-1')!;
    const config = configFingerprint(processor.config).shared;
    const graph = runningGraph(['a', 'b'].map((host) => ({ name: 'mayday', host, roles: ['processor'], config })));
    expect(graph.nodes.map((n) => [n.id, n.name, n.host])).toEqual([
      ['node:mayday@a', 'mayday', 'a'],
      ['node:mayday@b', 'mayday', 'b'],
    ]);
    expect(graph.hosts.map((h) => [h.id, h.nodes])).toEqual([
      ['a', ['node:mayday@a']],
      ['b', ['node:mayday@b']],
    ]);
    // Both drain the one shared queue: two edges from it, not one.
    const queue = graph.resources.find((r) => r.kind === 'queue')!.id;
    expect(graph.edges.filter((e) => e.from === queue).map((e) => e.to)).toEqual(['node:mayday@a', 'node:mayday@b']);
    expect(runningNodeId({ name: 'mayday', host: 'b' })).toBe('node:mayday@b');
  });

  it('reports carry no secrets, and URLs without their credentials', () => {
    const [node] = compileDeployment(presetFiles('distributed')).nodes.filter((n) => n.id === 'web');
    const shared = configFingerprint(node.config).shared;
    const text = JSON.stringify(shared);
    expect(text).not.toContain('mayday-secret');
    expect(text).not.toContain('mayday:mayday@');
    expect(shared.database.url).toBe('postgres://127.0.0.1:5432/mayday');
    expect(shared.storage.s3_access_key_id).toBeUndefined();
  });

  it('peers share a configuration hash; a different queue prefix or database password changes it, a port does not', () => {
    const nodes = compileDeployment(presetFiles('distributed')).nodes;
    const hash = (name: string) => configFingerprint(nodes.find((n) => n.id === name)!.config).hash;
    expect(hash('processor-1')).toBe(hash('processor-2'));
    const p2 = nodes.find((n) => n.id === 'processor-2')!.config;
    expect(configFingerprint({ ...p2, queue: { ...p2.queue, prefix: 'other.' } }).hash).not.toBe(hash('processor-1'));
    expect(configFingerprint({ ...p2, database: { ...p2.database, url: 'postgres://mayday:other@127.0.0.1:5432/mayday' } }).hash).not.toBe(hash('processor-1'));
    expect(configFingerprint({ ...p2, web: { ...p2.web, port: 9999 } }).hash).toBe(hash('processor-1'));
  });
});
