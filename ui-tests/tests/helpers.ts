/**
 * Shared steps of the colab-guard UI tests, and the expectations they compute
 * themselves from the server's answers (nothing is imported from the
 * extension: a test that shared its formatting code could not catch a wrong
 * figure).
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Page } from '@playwright/test';

export const PANEL_ID = 'colab-guard-panel';
export const PANEL = `#${PANEL_ID}`;
export const STATUS_ITEM = '.jp-colab-guard-statusitem';
export const INDICATOR = '#colab-guard-top-indicator button';

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
export async function openPanel(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('colab-guard:open');
  });
  await expect(page.locator(PANEL)).toBeVisible();
}

/** Ask the model for every endpoint now (snapshots and post-mortems are otherwise polled every 5th tick). */
export async function refreshNow(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('colab-guard:refresh');
  });
}

/** Wait until the panel shows numbers (not "Loading…", not an error). */
export async function waitForData(page: Page): Promise<void> {
  await expect(page.locator(PANEL)).toHaveAttribute('data-state', 'ok', {
    timeout: 15000
  });
}

/** A section of the panel: an accordion region named by its title. */
export function section(page: Page, title: string) {
  return page
    .locator(PANEL)
    .getByRole('region', { name: `${title} Section`, exact: true });
}

/** Seconds of an "mm:ss" countdown. */
export function countdownSeconds(text: string | null): number {
  const match = /^(\d+):(\d{2})$/.exec((text ?? '').trim());
  if (!match) {
    throw new Error(`not a countdown: ${text}`);
  }
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * Bytes in binary units as the panel is specified to write them: the largest
 * unit in which the value is at least 1, one decimal ("15.6 GiB"; bytes
 * whole).
 */
export function binaryBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let unit = 0;
  while (unit < units.length - 1 && bytes >= 1024 ** (unit + 1) * 0.99995) {
    unit += 1;
  }
  return unit === 0
    ? `${Math.round(bytes)} B`
    : `${(bytes / 1024 ** unit).toFixed(1)} ${units[unit]}`;
}

/** "used/total unit" in the unit of the total ("9.1/12.7 GiB"). */
export function binaryPair(used: number, total: number): string {
  const [, unit] = binaryBytes(total).split(' ');
  const power = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'].indexOf(unit);
  const digits = power === 0 ? 0 : 1;
  const f = (v: number) => (v / 1024 ** power).toFixed(digits);
  return `${f(used)}/${f(total)} ${unit}`;
}

/** The colour the panel is specified to give a share of a limit: amber from 80 %, red from 90 %. */
export function usageLevel(percent: number): 'ok' | 'warn' | 'critical' {
  return percent >= 90 ? 'critical' : percent >= 80 ? 'warn' : 'ok';
}

/** The colour of a countdown: amber under 10 minutes, red under 2. */
export function countdownLevel(seconds: number): 'ok' | 'warn' | 'critical' {
  return seconds < 120 ? 'critical' : seconds < 600 ? 'warn' : 'ok';
}

/** The accelerators in one line: GPUs grouped by model ("Tesla T4 x1"), "CPU only" without. */
export function acceleratorLine(accelerators: any[]): string {
  if (!accelerators.length) {
    return 'CPU only';
  }
  const counts = new Map<string, number>();
  for (const a of accelerators) {
    const name =
      a.kind === 'tpu'
        ? a.accelerator_type
          ? `TPU ${a.accelerator_type}`
          : 'TPU'
        : a.name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return Array.from(counts)
    .map(([name, n]) => (name.startsWith('TPU') ? name : `${name} x${n}`))
    .join(', ');
}

/**
 * Run axe-core on the part of the page `selector` names and expect no serious
 * or critical violation (the failure lists them, with the nodes).
 */
export async function expectAccessible(
  page: Page,
  selector: string
): Promise<void> {
  const results = await new AxeBuilder({ page }).include(selector).analyze();
  const severe = results.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map(n => `${n.target.join(' ')}: ${n.failureSummary}`)
    }));
  expect(severe, JSON.stringify(severe, null, 2)).toEqual([]);
  expect(results.passes.length).toBeGreaterThan(0);
}

/** Open a new notebook in Notebook 7 (`/notebooks/<path>`), its kernel started. */
export async function openNotebook7(
  page: IJupyterLabPageFixture,
  baseURL: string | undefined,
  path: string
): Promise<void> {
  const created = await page.request.put(
    `${base(baseURL)}/api/contents/${path}`,
    {
      data: {
        type: 'notebook',
        format: 'json',
        content: {
          cells: [],
          metadata: {
            kernelspec: {
              name: 'python3',
              display_name: 'Python 3 (ipykernel)',
              language: 'python'
            }
          },
          nbformat: 4,
          nbformat_minor: 5
        }
      }
    }
  );
  expect(created.ok()).toBe(true);
  await page.goto(`${base(baseURL)}/notebooks/${path}`);
  await page.waitForFunction(
    () =>
      !!window.jupyterapp &&
      window.jupyterapp.commands.hasCommand('colab-guard:open')
  );
}

/**
 * Run `body` with an idle kernel started through the REST API: no tab is
 * connected to it, so the test server (600 s idle culling, not of connected
 * kernels) gives it a countdown. The kernel is shut down afterwards.
 */
export async function withIdleKernel(
  request: APIRequestContext,
  baseURL: string | undefined,
  body: (kernel: { id: string }) => Promise<void>
): Promise<void> {
  const started = await request.post(`${base(baseURL)}/api/kernels`, {
    data: { name: 'python3' }
  });
  expect(started.status()).toBe(201);
  const kernel = await started.json();
  try {
    await body(kernel);
  } finally {
    await request.delete(`${base(baseURL)}/api/kernels/${kernel.id}`);
  }
}
