/**
 * The scheduler role on a real node: it runs its jobs at start and records them, the web
 * role lists them at /api/ops/jobs, and two scheduler nodes on one database never run one
 * job twice.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node/node.js';
import { eventually } from '../support/mayday-process.js';
import { OTHER_DUMP, copyCorpusSymbols, processedCrash, startTestNode, submit } from './stackwalk-fixtures.js';

interface JobsDocument {
  jobs: { job: string; description: string; runs: number; last_run: { outcome: string; summary: string; owner: string } | null; next_run_at: string | null; overdue: boolean; recent_runs: unknown[] }[];
}

let dir: string;
const nodes: RunningNode[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mayday-scheduler-role-'));
  copyCorpusSymbols(join(dir, 'symbols'), { withApp: true });
});
afterAll(async () => {
  for (const node of nodes) await node.close();
  rmSync(dir, { recursive: true, force: true });
});

async function jobs(node: RunningNode): Promise<JobsDocument> {
  const response = await fetch(`${node.url}/api/ops/jobs`);
  expect(response.status).toBe(200);
  return (await response.json()) as JobsDocument;
}

describe('scheduler role', () => {
  it('runs verify-processed at start on the all-in-one node and lists it at /api/ops/jobs', async () => {
    const node = await startTestNode(dir, { 'scheduler.tick_interval': '100ms', 'processor.verify_interval': '1h' });
    nodes.push(node);
    const crash = await processedCrash(node, await submit(node, readFileSync(OTHER_DUMP)));
    expect(crash.success).toBe(true);
    const doc = await eventually(async () => {
      const d = await jobs(node);
      return d.jobs.find((j) => j.job === 'verify-processed' && j.runs >= 1) ? d : undefined;
    }, 10_000, 'a verify-processed run');
    const job = doc.jobs.find((j) => j.job === 'verify-processed')!;
    expect(job).toMatchObject({ runs: 1, overdue: false, last_run: { outcome: 'success' } });
    expect(job.last_run!.summary).toMatch(/^checked \d+ crashes, queued 0$/);
    expect(job.description).toMatch(/neither processed nor waiting/);
    // Due an hour after that run ended.
    expect(Date.parse(job.next_run_at!) - Date.now()).toBeGreaterThan(59 * 60_000);
  });

  it('does not run a job again in a second scheduler node on the same database before it is due', async () => {
    const second = await startTestNode(dir, { 'node.roles': 'scheduler, web', 'node.name': 'second', 'scheduler.tick_interval': '100ms', 'processor.verify_interval': '1h' });
    nodes.push(second);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const job = (await jobs(second)).jobs.find((j) => j.job === 'verify-processed')!;
    expect(job.runs).toBe(1);
    expect(job.last_run!.owner).toMatch(/^mayday@/);
  });
});
