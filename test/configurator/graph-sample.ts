/**
 * A distributed deployment drawn by the graph tests and by `scripts/configurator-graph-sample.ts`
 * (which writes it out to look at): three hosts, ten nodes (three collectors, four processors,
 * two web nodes, a scheduler), shared S3, RabbitMQ and PostgreSQL,
 * one host-local symbol store, an upstream symbol server, and two findings.
 */

import type { DeploymentGraph, Edge, Finding, Flow } from '../../src/configurator/deployment.js';

const RAW = 's3:https://s3.internal:9000/mayday-crashes/v1/raw_crash';
const PROCESSED = 's3:https://s3.internal:9000/mayday-crashes/v1/processed_crash';
const QUEUE = 'amqp://mq.internal:5672/mayday';
const DB = 'postgresql://db.internal:5432/mayday';
const SYMBOLS = 's3:https://s3.internal:9000/mayday-symbols/';
const LOCAL_SYMBOLS = 'fs:ops.internal:/srv/mayday/symbols';
const UPSTREAM = 'https://symbols.mozilla.org/';

function edge(from: string, to: string, ...flows: Flow[]): Edge {
  return { id: `${from}->${to}`, from, to, flows };
}

export function sampleGraph(): DeploymentGraph {
  const processors = ['processor-1', 'processor-2', 'processor-3', 'processor-4'];
  const edges: Edge[] = [
    ...['collector-1', 'collector-2', 'collector-3'].flatMap((c) => [edge(c, RAW, 'raw crashes'), edge(c, QUEUE, 'crash ids'), edge(c, DB, 'heartbeats')]),
    ...processors.flatMap((p) => [
      edge(QUEUE, p, 'crash ids'),
      edge(RAW, p, 'raw crashes'),
      edge(SYMBOLS, p, 'symbols'),
      edge(UPSTREAM, p, 'symbols'),
      edge(p, PROCESSED, 'processed crashes'),
      edge(p, DB, 'index rows', 'heartbeats'),
    ]),
    edge(LOCAL_SYMBOLS, 'processor-3', 'symbols'),
    edge('web-1', LOCAL_SYMBOLS, 'symbols'),
    ...['web-1', 'web-2'].flatMap((w) => [edge(DB, w, 'index rows'), edge(RAW, w, 'raw crashes'), edge(PROCESSED, w, 'processed crashes')]),
    edge('scheduler-1', QUEUE, 'crash ids'),
    edge('scheduler-1', DB, 'index rows', 'heartbeats'),
  ];
  return {
    hosts: [
      { id: 'ingest-1.internal', nodes: ['collector-1', 'collector-3', 'processor-1'], resources: [] },
      { id: 'ingest-2.internal', nodes: ['collector-2', 'processor-2', 'processor-4'], resources: [] },
      { id: 'ops.internal', nodes: ['processor-3', 'web-1', 'web-2', 'scheduler-1'], resources: [LOCAL_SYMBOLS] },
    ],
    nodes: [
      { id: 'collector-1', name: 'collector-1', host: 'ingest-1.internal', roles: ['collector'], file: 'collector-1.ini', listen: '0.0.0.0:8000' },
      { id: 'collector-3', name: 'collector-3', host: 'ingest-1.internal', roles: ['collector'], file: 'collector-3.ini', listen: '0.0.0.0:8003' },
      { id: 'processor-1', name: 'processor-1', host: 'ingest-1.internal', roles: ['processor'], file: 'processor-1.ini', listen: '127.0.0.1:8001' },
      { id: 'collector-2', name: 'collector-2', host: 'ingest-2.internal', roles: ['collector'], file: 'collector-2.ini', listen: '0.0.0.0:8000' },
      { id: 'processor-2', name: 'processor-2', host: 'ingest-2.internal', roles: ['processor'], file: 'processor-2.ini', listen: '127.0.0.1:8001' },
      { id: 'processor-4', name: 'processor-4', host: 'ingest-2.internal', roles: ['processor'], file: 'processor-4.ini', listen: '127.0.0.1:8004' },
      { id: 'processor-3', name: 'processor-3', host: 'ops.internal', roles: ['processor'], file: 'processor-3.ini', listen: '127.0.0.1:8001' },
      { id: 'web-1', name: 'web-1', host: 'ops.internal', roles: ['web'], file: 'web-1.ini', listen: '0.0.0.0:8080' },
      { id: 'web-2', name: 'web-2', host: 'ops.internal', roles: ['web'], file: 'web-2.ini', listen: '0.0.0.0:8081' },
      { id: 'scheduler-1', name: 'scheduler-1', host: 'ops.internal', roles: ['scheduler'], file: 'scheduler-1.ini', listen: '127.0.0.1:8002' },
    ],
    resources: [
      { id: RAW, kind: 'raw-store', label: 'raw crashes', detail: 's3://mayday-crashes/v1/raw_crash at https://s3.internal:9000', backend: 's3' },
      { id: PROCESSED, kind: 'processed-store', label: 'processed crashes', detail: 's3://mayday-crashes/v1/processed_crash', backend: 's3' },
      { id: QUEUE, kind: 'queue', label: 'queues "mayday.*"', detail: 'amqp://mq.internal:5672/', backend: 'rabbitmq' },
      { id: DB, kind: 'database', label: 'crash index, registry, jobs', detail: 'postgresql://db.internal:5432/mayday', backend: 'postgresql' },
      { id: SYMBOLS, kind: 'symbol-store', label: 'symbols', detail: 's3://mayday-symbols/', backend: 's3' },
      { id: LOCAL_SYMBOLS, kind: 'symbol-store', label: 'uploaded symbols', detail: 'ops.internal:/srv/mayday/symbols', backend: 'fs', host: 'ops.internal' },
      { id: UPSTREAM, kind: 'symbol-upstream', label: 'Mozilla symbol server', detail: 'https://symbols.mozilla.org/', backend: 'http' },
    ],
    edges,
  };
}

/** The edge and the resource the sample's findings name. */
export const PROBLEM_EDGE = `scheduler-1->${QUEUE}`;
export const PROBLEM_RESOURCE = LOCAL_SYMBOLS;

export function sampleFindings(): Finding[] {
  return [
    {
      layer: 'topology',
      code: 'queue-prefix-mismatch',
      severity: 'error',
      file: 'scheduler-1.ini',
      line: 12,
      message: 'scheduler-1 queues on "mayday-old.*", which no processor consumes',
      option: 'queue.prefix',
      targets: [PROBLEM_EDGE],
    },
    {
      layer: 'topology',
      code: 'host-local-shared',
      severity: 'warning',
      file: 'web-1.ini',
      line: 7,
      message: 'symbols uploaded to web-1 are on ops.internal only; processors on other hosts do not see them',
      option: 'symbols.store',
      targets: [PROBLEM_RESOURCE],
    },
  ];
}
