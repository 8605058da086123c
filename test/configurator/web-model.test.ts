import { describe, expect, it } from 'vitest';
import { compileDeployment } from '../../src/configurator/compile.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { addNode, fileText, findingOption, freePort, moveNode, setOption, sharedFileNames, suggestName } from '../../src/configurator/web/model.js';

/** The web tool's edits of a deployment's text (src/configurator/web/model.ts), without a browser. */
describe('the Configurator web model', () => {
  const preset = presetFiles('distributed', ['a', 'b', 'c']);

  it('adds a node that includes the shared file, on a free port, and the deployment stays clean', () => {
    const before = compileDeployment(preset);
    expect(sharedFileNames(preset)).toEqual(['common.ini']);
    expect(suggestName(before, preset, 'processor')).toBe('processor-3');
    expect(suggestName(before, preset, 'collector')).toBe('collector-2');
    const port = freePort(before, 'c');
    expect(before.nodes.filter((n) => n.host === 'c').map((n) => n.config.web.port)).not.toContain(port);
    const { files, file } = addNode(preset, { name: 'processor-3', host: 'c', roles: ['processor'], port });
    expect(file).toBe('processor-3.ini');
    expect(fileText(files, file)).toMatch(/^include = common\.ini\n/m);
    const after = compileDeployment(files);
    expect(after.findings).toEqual([]);
    expect(after.nodes.find((n) => n.id === 'processor-3')).toMatchObject({ host: 'c', roles: ['processor'] });
    expect(after.nodes.find((n) => n.id === 'processor-3')!.config.queue.backend).toBe('rabbitmq');
  });

  it('moves a node: node.host and the web.host that named the old host change, comments stay', () => {
    const scheduler = compileDeployment(preset).nodes.find((n) => n.id === 'scheduler')!;
    const moved = moveNode(preset, scheduler, 'c');
    const text = fileText(moved, 'scheduler.ini');
    expect(text).toContain('; scheduler.ini: housekeeping jobs');
    expect(text).toMatch(/\[node\][^[]*host = c\n/);
    expect(text).toMatch(/\[web\]\nhost = c\nport = 8121\n/);
    expect(compileDeployment(moved).nodes.find((n) => n.id === 'scheduler')!.host).toBe('c');
  });

  it('points a cross-file finding at the option of the node that overrides it', () => {
    const planted = setOption(preset, 'web.ini', 'queue', 'prefix', 'other.');
    const finding = compileDeployment(planted).findings.find((f) => f.code === 'queue-unconsumed')!;
    expect(finding).toMatchObject({ file: 'web.ini', severity: 'error' });
    expect(findingOption(finding, planted)).toBe('queue.prefix');
    expect(compileDeployment(setOption(planted, 'web.ini', 'queue', 'prefix', undefined)).findings).toEqual([]);
  });
});
