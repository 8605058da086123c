import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentGraph, Finding } from '../../src/configurator/deployment.js';
import { renderDot } from '../../src/configurator/graph/dot.js';
import { METRICS, AUTO_LABEL_LIMIT, layoutDeployment, type Box, type LaidOutGraph } from '../../src/configurator/graph/layout.js';
import { renderMermaid } from '../../src/configurator/graph/mermaid.js';
import { renderPng } from '../../src/configurator/graph/png.js';
import { PROBLEM_COLOURS, renderSvg } from '../../src/configurator/graph/svg.js';
import { PROBLEM_EDGE, PROBLEM_RESOURCE, sampleFindings, sampleGraph } from './graph-sample.js';

/**
 * A small XML well-formedness check (no dependency): one root, balanced tags, quoted
 * attributes without `<`, no raw `<` or stray `&` in text. Returns the first problem.
 */
function xmlProblem(xml: string): string | undefined {
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (text: string, where: string): string | undefined => {
    for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
      entity.lastIndex = i;
      if (!entity.test(text)) return `stray & in ${where}: ${text.slice(i, i + 12)}`;
    }
    return text.includes('<') ? `raw < in ${where}` : undefined;
  };
  const stack: string[] = [];
  let roots = 0;
  let i = xml.startsWith('<?xml') ? xml.indexOf('?>') + 2 : 0;
  while (i < xml.length) {
    const open = xml.indexOf('<', i);
    const text = xml.slice(i, open === -1 ? xml.length : open);
    if (stack.length === 0 && text.trim() !== '') return `text outside the root: ${text.slice(0, 20)}`;
    const textProblem = checkText(text, 'text');
    if (textProblem) return textProblem;
    if (open === -1) break;
    if (xml.startsWith('<!--', open)) {
      const end = xml.indexOf('-->', open);
      if (end === -1) return 'unclosed comment';
      i = end + 3;
      continue;
    }
    const close = xml.indexOf('>', open);
    if (close === -1) return 'unclosed tag';
    const tag = xml.slice(open + 1, close);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) return `mismatched </${name}>`;
    } else {
      const selfClosing = tag.endsWith('/');
      const match = /^([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*="[^"<]*")*)\s*\/?$/.exec(tag);
      if (!match) return `bad tag <${tag.slice(0, 60)}>`;
      const attrText = match[2] ?? '';
      const attrProblem = checkText(attrText, `attributes of <${match[1]}>`);
      if (attrProblem) return attrProblem;
      const names = [...attrText.matchAll(/([A-Za-z_][\w:.-]*)="/g)].map((m) => m[1]);
      if (new Set(names).size !== names.length) return `duplicate attribute in <${match[1]}>`;
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(match[1]!);
    }
    i = close + 1;
  }
  if (stack.length > 0) return `unclosed <${stack.at(-1)}>`;
  return roots === 1 ? undefined : `${roots} root elements`;
}

const inside = (inner: Box, outer: Box): boolean =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

const overlap = (a: Box, b: Box): boolean => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const onBorder = (p: { x: number; y: number }, box: Box): boolean => {
  const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1.5;
  const withinX = p.x >= box.x - 1.5 && p.x <= box.x + box.width + 1.5;
  const withinY = p.y >= box.y - 1.5 && p.y <= box.y + box.height + 1.5;
  return (withinY && (near(p.x, box.x) || near(p.x, box.x + box.width))) || (withinX && (near(p.y, box.y) || near(p.y, box.y + box.height)));
};

function pairs<T>(items: T[]): [T, T][] {
  return items.flatMap((a, i) => items.slice(i + 1).map((b): [T, T] => [a, b]));
}

describe('configurator graph', () => {
  let graph: DeploymentGraph;
  let findings: Finding[];
  let laid: LaidOutGraph;
  let svg: string;

  beforeAll(async () => {
    graph = sampleGraph();
    findings = sampleFindings();
    laid = await layoutDeployment(graph, findings, { edgeLabels: 'all' });
    svg = renderSvg(laid, { title: 'Sample <deployment> & "friends"' });
  });

  describe('layout', () => {
    it('puts every node and host-local resource inside its host box, below the header', () => {
      const hosts = new Map(laid.hosts.map((h) => [h.id, h]));
      expect([...hosts.keys()].sort()).toEqual(graph.hosts.map((h) => h.id).sort());
      for (const element of [...laid.nodes, ...laid.resources.filter((r) => r.host)]) {
        const host = hosts.get(element.host!)!;
        expect(inside(element, host), `${element.id} in ${host.id}`).toBe(true);
        expect(element.y).toBeGreaterThanOrEqual(host.y + METRICS.hostHeader);
      }
      for (const resource of laid.resources.filter((r) => !r.host)) {
        for (const host of laid.hosts) expect(overlap(resource, host), `${resource.id} outside ${host.id}`).toBe(false);
      }
    });

    it('lets no two boxes overlap and keeps them in the drawing', () => {
      const topLevel: Box[] = [...laid.hosts, ...laid.resources.filter((r) => !r.host)];
      for (const [a, b] of pairs(topLevel)) expect(overlap(a, b)).toBe(false);
      for (const host of laid.hosts) {
        const members = [...laid.nodes.filter((n) => n.host === host.id), ...laid.resources.filter((r) => r.host === host.id)];
        for (const [a, b] of pairs(members)) expect(overlap(a, b), `${a.id} / ${b.id}`).toBe(false);
      }
      for (const box of [...topLevel, ...laid.nodes]) expect(inside(box, { x: 0, y: 0, width: laid.width, height: laid.height })).toBe(true);
    });

    it('sizes boxes from their text', () => {
      for (const node of laid.nodes) expect(node.width).toBeGreaterThanOrEqual(METRICS.minBoxWidth);
      const raw = laid.resources.find((r) => r.kind === 'raw-store')!;
      // The long detail is shortened in the middle and keeps both ends.
      expect(raw.detailShown).toContain('…');
      expect(raw.detailShown.startsWith('s3://mayday-crashes/')).toBe(true);
      expect(raw.detailShown.endsWith(':9000')).toBe(true);
    });

    it('routes every edge from its source box to its target box, labelled with its flows', () => {
      const boxes = new Map<string, Box>([...laid.nodes, ...laid.resources].map((b) => [b.id, b]));
      expect(laid.edges).toHaveLength(graph.edges.length);
      for (const edge of laid.edges) {
        expect(edge.points.length, edge.id).toBeGreaterThanOrEqual(2);
        // The arrow head goes at the last point: at `to`, even for edges laid out backwards.
        expect(onBorder(edge.points[0]!, boxes.get(edge.from)!), `${edge.id} starts at ${edge.from}`).toBe(true);
        expect(onBorder(edge.points.at(-1)!, boxes.get(edge.to)!), `${edge.id} ends at ${edge.to}`).toBe(true);
        expect(edge.label?.text).toBe(edge.flows.join(', '));
      }
    });

    it('past AUTO_LABEL_LIMIT edges labels only the edges with problems (colours and tooltips say the rest)', async () => {
      expect(graph.edges.length).toBeGreaterThan(AUTO_LABEL_LIMIT);
      const auto = await layoutDeployment(graph, findings);
      const labelled = auto.edges.filter((e) => e.label).map((e) => e.id);
      expect(labelled).toEqual(auto.edges.filter((e) => e.problem).map((e) => e.id));
      expect(labelled.length).toBeGreaterThan(0);
    });

    it('marks what findings name, errors over warnings', async () => {
      expect(laid.edges.find((e) => e.id === PROBLEM_EDGE)?.problem).toBe('error');
      expect(laid.resources.find((r) => r.id === PROBLEM_RESOURCE)?.problem).toBe('warning');
      expect(laid.nodes.every((n) => n.problem === undefined)).toBe(true);
      expect(laid.edges.filter((e) => e.problem).map((e) => e.id)).toEqual([PROBLEM_EDGE]);

      const both = await layoutDeployment(graph, [
        { ...findings[1]!, targets: ['web-1'] },
        { ...findings[0]!, targets: ['web-1'] },
      ]);
      expect(both.nodes.find((n) => n.id === 'web-1')?.problem).toBe('error');
    });

    it('lays out an empty deployment and a host sharing a node name', async () => {
      const empty = await layoutDeployment({ hosts: [], nodes: [], resources: [], edges: [] }, []);
      expect(empty.nodes).toEqual([]);
      const same = await layoutDeployment(
        { hosts: [{ id: 'ops', nodes: ['ops'], resources: [] }], nodes: [{ id: 'ops', name: 'ops', host: 'ops', roles: ['web'], file: 'ops.ini', listen: ':80' }], resources: [], edges: [] },
        [],
      );
      expect(inside(same.nodes[0]!, same.hosts[0]!)).toBe(true);
    });
  });

  describe('SVG', () => {
    it('is well-formed XML', () => {
      expect(xmlProblem(svg)).toBeUndefined();
      expect(xmlProblem('<a><b></a></b>')).toBeDefined(); // the checker checks
      expect(svg.startsWith('<?xml')).toBe(true);
      expect(svg).toMatch(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
    });

    it('is self-contained', () => {
      expect(svg).not.toMatch(/<script|<style|href=|url\((?!#)/);
    });

    it('names every node, host and resource, each element with data-id and class', () => {
      for (const node of graph.nodes) {
        expect(svg).toContain(`>${node.id}</text>`);
        expect(svg).toContain(`class="node" data-id="${node.id}"`);
      }
      for (const host of graph.hosts) expect(svg).toContain(`data-id="${host.id}"`);
      const hostMarkup = svg.match(/class="host[^"]*" data-id="[^"]*"/g) ?? [];
      expect(hostMarkup).toHaveLength(graph.hosts.length);
      expect(svg.match(/class="resource[^"]*" data-id="[^"]*"/g) ?? []).toHaveLength(graph.resources.length);
      expect(svg.match(/class="edge(?: problem-\w+)?" data-id="[^"]*"/g) ?? []).toHaveLength(graph.edges.length);
    });

    it('escapes text', () => {
      expect(svg).toContain('queues &quot;mayday.*&quot;');
      expect(svg).toContain('Sample &lt;deployment&gt; &amp; &quot;friends&quot;');
      const hostile: LaidOutGraph = {
        ...laid,
        nodes: [{ ...laid.nodes[0]!, id: '<script>alert("x")</script>&\u0001' }],
      };
      const out = renderSvg(hostile);
      expect(out).not.toContain('<script>');
      expect(xmlProblem(out)).toBeUndefined();
    });

    it('draws the problem edge in red with an arrow head and a marker, the warned resource in amber', () => {
      const group = svg.match(new RegExp(`<g class="edge problem-error" data-id="${escapeRegExp(xmlAttr(PROBLEM_EDGE))}"[^]*?</g>`))?.[0];
      expect(group).toBeDefined();
      expect(group).toContain(`stroke="${PROBLEM_COLOURS.error}" stroke-width="3"`);
      expect(group).toContain('marker-end="url(#arrow-error)"');
      const label = svg.match(new RegExp(`<g class="edge-label problem-error" data-id="${escapeRegExp(xmlAttr(PROBLEM_EDGE))}"[^]*?</g></g>`))?.[0];
      expect(label).toContain('>!</text>');
      const resource = svg.match(new RegExp(`<g class="resource problem-warning" data-id="${escapeRegExp(xmlAttr(PROBLEM_RESOURCE))}"[^]*?>!</text>`))?.[0];
      expect(resource).toContain(`stroke="${PROBLEM_COLOURS.warning}"`);
      // Nothing else in the drawing is red (the legend has its own red line).
      expect(svg.slice(0, svg.indexOf('<g class="legend">')).split(`stroke="${PROBLEM_COLOURS.error}" stroke-width="3"`)).toHaveLength(2);
    });

    it('has a legend', () => {
      expect(svg).toContain('<g class="legend">');
      expect(svg).toContain('>raw crash store</text>');
      expect(svg).toContain('>crash ids</text>');
    });
  });

  describe('DOT', () => {
    let dot: string;
    beforeAll(() => {
      dot = renderDot(graph, findings);
    });

    it('has one cluster per host, with its nodes and host-local resources', () => {
      expect(dot.startsWith('digraph ')).toBe(true);
      expect(dot.match(/subgraph cluster_\d+ \{/g)).toHaveLength(3);
      const ops = dot.slice(dot.indexOf('label="host ops.internal"'));
      const opsCluster = ops.slice(0, ops.indexOf('\n  }'));
      for (const id of ['web-1', 'processor-3', 'scheduler-1', PROBLEM_RESOURCE]) expect(opsCluster).toContain(`"${id}" [`);
    });

    it('quotes ids and escapes labels', () => {
      expect(dot).toContain('queues \\"mayday.*\\"');
      expect(dot).toContain(`"s3:https://s3.internal:9000/mayday-symbols/" -> "processor-1"`);
      const tricky = renderDot(
        { hosts: [], nodes: [], resources: [{ id: 'a"b\\c', kind: 'queue', label: 'x\ny', detail: '\\N', backend: 'fs', host: 'h' }], edges: [] },
        [],
      );
      expect(tricky).toContain('"a\\"b\\\\c" [');
      expect(tricky).toContain('x\\ny\\n\\\\N"');
    });

    it('labels edges with their flows and colours problems', () => {
      expect(dot).toMatch(/"processor-1" -> "postgresql:\/\/db\.internal:5432\/mayday" \[label="index rows, heartbeats"/);
      expect(dot).toMatch(new RegExp(`-> "amqp://mq\\.internal:5672/mayday" \\[label="crash ids", id="${escapeRegExp(PROBLEM_EDGE)}", color="red3"`));
      expect(dot).toMatch(/"fs:ops\.internal:\/srv\/mayday\/symbols" \[label=[^\n]*color="darkorange"/);
    });

    const hasDot = spawnSync('dot', ['-V']).status === 0;
    it.skipIf(!hasDot)('is accepted by Graphviz', () => {
      const result = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('<svg');
    });
  });

  describe('Mermaid', () => {
    let mermaid: string;
    beforeAll(() => {
      mermaid = renderMermaid(graph, findings);
    });

    it('is a flowchart with a subgraph per host and generated ids', () => {
      const lines = mermaid.trimEnd().split('\n');
      expect(lines[0]).toBe('flowchart LR');
      expect(lines.filter((l) => /^ {2}subgraph h\d+\["host [^"]+"\]$/.test(l))).toHaveLength(3);
      expect(lines.filter((l) => l === '  end')).toHaveLength(3);
      // Every statement's leading id is generated; no graph id (a URL) is used as one.
      const shapes = lines.filter((l) => /^\s+[nr]\d+[([{]/.test(l));
      expect(shapes).toHaveLength(graph.nodes.length + graph.resources.length);
      for (const link of lines.filter((l) => l.includes('-->'))) expect(link).toMatch(/^ {2}[nr]\d+ -->\|"[^"]*"\| [nr]\d+$/);
    });

    it('escapes labels', () => {
      expect(mermaid).toContain('queues #quot;mayday.*#quot;');
      // Every quote opens or closes a label: an even number per line.
      for (const line of mermaid.split('\n')) expect(line.split('"').length % 2, line).toBe(1);
      const tricky = renderMermaid(
        { hosts: [], nodes: [{ id: 'a', name: 'a', host: 'h#1', roles: ['web'], file: 'a.ini', listen: '<x>&"`|' }], resources: [], edges: [] },
        [],
      );
      expect(tricky).toContain('"host h#35;1"');
      expect(tricky).toContain('#lt;x#gt;#amp;#quot;#96;#124;"');
    });

    it('styles kinds and problems', () => {
      const links = mermaid.split('\n').filter((l) => l.includes('-->'));
      const index = links.findIndex((l) => l.startsWith(`  n${graph.nodes.findIndex((n) => n.id === 'scheduler-1')} -->|"crash ids"|`));
      expect(index).toBeGreaterThanOrEqual(0);
      expect(mermaid).toContain(`  linkStyle ${index} stroke:${PROBLEM_COLOURS.error},stroke-width:3px`);
      expect(mermaid).toMatch(/classDef kQueue fill:/);
      const warned = `r${graph.resources.findIndex((r) => r.id === PROBLEM_RESOURCE)}`;
      expect(mermaid).toMatch(new RegExp(`class [^\\n]*\\b${warned}\\b[^\\n]* problemWarning`));
    });
  });

  describe('PNG', () => {
    it('renders the SVG at the asked scale', () => {
      const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1]);
      const height = Number(/<svg [^>]*height="(\d+)"/.exec(svg)![1]);
      const png = renderPng(svg, { scale: 1.5 });
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
      expect(png.readUInt32BE(16)).toBe(Math.round(width * 1.5));
      expect(png.readUInt32BE(20)).toBe(Math.round(height * 1.5));
      expect(() => renderPng(svg, { scale: 0 })).toThrow(RangeError);
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function xmlAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/>/g, '&gt;').replace(/</g, '&lt;');
}
