import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeWebhook, postWebhook, targetId, webhookBody, type AlertNotice } from '../../../../src/roles/scheduler/alerts/webhook.js';
import { Receiver } from './receiver.js';

const notice: AlertNotice = {
  status: 'firing',
  alert: 'processor_down:processor-2',
  rule: 'processor_down',
  severity: 'critical',
  subject: 'processor-2',
  message: 'node processor-2 (processor) has sent no heartbeat for 31 s <&>',
  since: Date.UTC(2024, 0, 2, 3, 4, 5),
  at: Date.UTC(2024, 0, 2, 3, 4, 35),
  dashboardUrl: 'https://mayday.example/dashboard',
};
const SECRET_PATH = '/services/T000/B000/XXXXsecretXXXX?token=hunter2';

describe('webhook bodies', () => {
  it('json: the notice\'s fields, times in ISO 8601', () => {
    expect(webhookBody(notice, 'json')).toEqual({
      status: 'firing',
      alert: 'processor_down:processor-2',
      rule: 'processor_down',
      severity: 'critical',
      subject: 'processor-2',
      message: notice.message,
      since: '2024-01-02T03:04:05.000Z',
      at: '2024-01-02T03:04:35.000Z',
      dashboard_url: 'https://mayday.example/dashboard',
    });
    const { dashboardUrl: _d, ...without } = notice;
    expect(webhookBody({ ...without, status: 'resolved' }, 'json')).not.toHaveProperty('dashboard_url');
  });

  it('slack: one text, escaped, saying firing, still firing or resolved', () => {
    expect(webhookBody(notice, 'slack')).toEqual({
      text: ':rotating_light: *FIRING* [critical] processor_down:processor-2\nnode processor-2 (processor) has sent no heartbeat for 31 s &lt;&amp;&gt;\nsince 2024-01-02T03:04:05.000Z\n<https://mayday.example/dashboard|Operations Dashboard>',
    });
    expect((webhookBody({ ...notice, repeat: true, severity: 'warning' }, 'slack').text as string).split('\n')[0]).toBe(':warning: *STILL FIRING* [warning] processor_down:processor-2');
    expect((webhookBody({ ...notice, status: 'resolved' }, 'slack').text as string).split('\n')[0]).toBe(':white_check_mark: *RESOLVED* processor_down:processor-2');
    // A node deleted while down did not recover: on-call must not read it so.
    expect((webhookBody({ ...notice, status: 'resolved', reason: 'removed' }, 'slack').text as string).split('\n')[0]).toBe(':wastebasket: *CLOSED (removed from the registry, not recovered)* processor_down:processor-2');
    expect(webhookBody({ ...notice, status: 'resolved', reason: 'removed' }, 'json')).toMatchObject({ status: 'resolved', reason: 'removed' });
  });

  it('names a webhook by host and hash, never by its path or query', () => {
    const url = `https://hooks.slack.com${SECRET_PATH}`;
    expect(describeWebhook(url)).toBe(`hooks.slack.com#${targetId(url)}`);
    expect(targetId(url)).toMatch(/^[0-9a-f]{12}$/);
    expect(targetId(url)).not.toBe(targetId(`${url}x`));
  });
});

describe('posting a notice to a real HTTP receiver', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await Receiver.start();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('POSTs the body as JSON once when the receiver accepts it', async () => {
    await postWebhook(`${receiver.url}/hook?token=abc`, webhookBody(notice, 'json'), { timeoutMs: 2000 });
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request).toMatchObject({ method: 'POST', path: '/hook?token=abc', body: webhookBody(notice, 'json') });
    expect(request.headers['content-type']).toBe('application/json');
  });

  it('tries once more after a 5xx or a 429, and succeeds', async () => {
    receiver.answer = (_, i) => ({ status: i === 0 ? 503 : 204 });
    await postWebhook(`${receiver.url}/hook`, { text: 'x' }, { timeoutMs: 2000, retryDelayMs: 10 });
    expect(receiver.received).toHaveLength(2);
    receiver.answer = (_, i) => ({ status: i === 2 ? 429 : 200 });
    await postWebhook(`${receiver.url}/hook`, { text: 'x' }, { timeoutMs: 2000, retryDelayMs: 10 });
    expect(receiver.received).toHaveLength(4);
  });

  it('gives up after the second failure, with an error that hides the URL\'s secrets', async () => {
    receiver.answer = () => ({ status: 500 });
    const url = `${receiver.url}${SECRET_PATH}`;
    const error = await postWebhook(url, { text: 'x' }, { timeoutMs: 2000, retryDelayMs: 10 }).catch((e: Error) => e);
    expect(receiver.received).toHaveLength(2);
    expect((error as Error).message).toBe(`webhook ${describeWebhook(url)}: HTTP 500`);
    expect((error as Error).message).not.toMatch(/secret|hunter2|services/);
  });

  it('does not retry a request the receiver refuses as wrong (4xx)', async () => {
    receiver.answer = () => ({ status: 404 });
    await expect(postWebhook(`${receiver.url}/nope`, {}, { timeoutMs: 2000, retryDelayMs: 10 })).rejects.toThrow(/HTTP 404$/);
    expect(receiver.received).toHaveLength(1);
  });

  it('stops waiting at the time limit, then tries once more', async () => {
    receiver.answer = () => ({ status: 200, delayMs: 1000 });
    const started = Date.now();
    await expect(postWebhook(`${receiver.url}/slow`, {}, { timeoutMs: 150, retryDelayMs: 10 })).rejects.toThrow(/no answer within 150 ms$/);
    expect(Date.now() - started).toBeLessThan(900);
    expect(receiver.received).toHaveLength(2);
  });

  it('does not follow a redirect elsewhere', async () => {
    receiver.answer = (request) => (request.path === '/moved' ? { status: 307, headers: { location: `${receiver.url}/elsewhere` } } : { status: 200 });
    await expect(postWebhook(`${receiver.url}/moved`, {}, { timeoutMs: 2000, retryDelayMs: 10 })).rejects.toThrow(/^webhook 127\.0\.0\.1:\d+#[0-9a-f]{12}: /);
    expect(receiver.received.map((r) => r.path)).not.toContain('/elsewhere');
  });

  it('reports a receiver that is not listening, without its URL', async () => {
    const url = `${receiver.url}${SECRET_PATH}`;
    await receiver.close();
    const error = (await postWebhook(url, {}, { timeoutMs: 2000, retryDelayMs: 10 }).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toMatch(/hunter2|XXXX/);
    receiver = await Receiver.start();
  });
});
