import { describe, expect, it } from 'vitest';
import { compileDeployment } from '../../src/configurator/compile.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { runningGraph } from '../../src/configurator/running.js';
import { configFingerprint } from '../../src/node/config-fingerprint.js';

describe('runningGraph', () => {
  it('draws from what running nodes report the same graph as the Configurator draws from their files', () => {
    for (const files of [presetFiles('distributed', ['a', 'b', 'c']), presetFiles('all-in-one')]) {
      const compiled = compileDeployment(files);
      const running = runningGraph(compiled.nodes.map((n) => ({ name: n.id, host: n.host, roles: n.roles, config: configFingerprint(n.config).shared })));
      expect(running.resources).toEqual(compiled.graph.resources);
      expect(running.edges).toEqual(compiled.graph.edges);
      expect(running.hosts).toEqual(compiled.graph.hosts);
      expect(running.nodes.map(({ file: _file, ...rest }) => rest)).toEqual(compiled.graph.nodes.map(({ file: _file, ...rest }) => rest));
    }
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
