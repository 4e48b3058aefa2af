/**
 * Shared steps of the colab-guard UI tests.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';

export const PANEL_ID = 'colab-guard-panel';
export const PANEL = `#${PANEL_ID}`;

/** The server's URL without a trailing slash. */
export function base(baseURL: string | undefined): string {
  return (baseURL ?? 'http://localhost:8888').replace(/\/$/, '');
}

/** GET a colab-guard endpoint (the same one the panel polls). */
export async function getEndpoint(
  request: APIRequestContext,
  baseURL: string | undefined,
  path: string
): Promise<{ status: number; body: any }> {
  const response = await request.get(`${base(baseURL)}/colab-guard/v1/${path}`);
  const status = response.status();
  return { status, body: status === 200 ? await response.json() : null };
}

/** Open the panel with its command. */
export async function openPanel(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('colab-guard:open');
  });
  await expect(page.locator(PANEL)).toBeVisible();
}

/** Ask the model for every endpoint now (snapshots and post-mortems are otherwise polled every 5th tick). */
export async function refreshNow(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('colab-guard:refresh');
  });
}

/** Wait until the panel shows numbers (not "Loading…", not an error). */
export async function waitForData(page: IJupyterLabPageFixture): Promise<void> {
  await expect(page.locator(PANEL)).toHaveAttribute('data-state', 'ok', {
    timeout: 15000
  });
}

/** Seconds of an "mm:ss" countdown. */
export function countdownSeconds(text: string | null): number {
  const match = /^(\d+):(\d{2})$/.exec((text ?? '').trim());
  if (!match) {
    throw new Error(`not a countdown: ${text}`);
  }
  return Number(match[1]) * 60 + Number(match[2]);
}
