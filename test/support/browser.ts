import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from './mayday-process.js';

/** Debian's Chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumMissing = !existsSync(CHROMIUM);
/** Screenshots land here, as test artefacts. */
export const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * What went wrong on a page while a test drove it: console errors, failed loads (4xx and
 * 5xx; the browser's own /favicon.ico request aside) and uncaught exceptions. A page test
 * ends expecting it empty.
 */
export function watchPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    // Failed loads are caught by URL below, with their status.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return problems;
}

/** Signs in through the login form and waits to land on `next` (a path of the node). */
export async function signInWithForm(page: Page, baseUrl: string, account: { username: string; password: string; next: string }): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(account.next)}`);
  await page.fill('input[name=username]', account.username);
  await page.fill('input[name=password]', account.password);
  await page.click('#login-form button[type=submit]');
  await page.waitForURL(`${baseUrl}${account.next}`);
}
