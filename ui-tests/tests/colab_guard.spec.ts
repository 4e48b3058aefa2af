import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';
import * as fs from 'fs';

// The panel's own formatting rules, so that expectations match by construction.
import {
  acceleratorStatusText,
  acceleratorSummary,
  formatBytes
} from '../../labextension/format';

const PANEL_ID = 'colab-guard-panel';
const PANEL = `#${PANEL_ID}`;

/** Bytes of RAM this machine reports in /proc/meminfo (MemTotal is in kB). */
function memTotalBytes(): number {
  const meminfo = fs.readFileSync('/proc/meminfo', 'utf-8');
  const match = /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
  if (!match) {
    throw new Error('MemTotal not found in /proc/meminfo');
  }
  return Number(match[1]) * 1024;
}

/** GET the resources endpoint the panel polls. */
async function fetchResources(
  request: APIRequestContext,
  baseURL: string
): Promise<any> {
  const response = await request.get(
    `${baseURL.replace(/\/$/, '')}/colab-guard/v1/resources`
  );
  expect(response.status()).toBe(200);
  return response.json();
}

/** Open the panel the way a user would: through the command palette. */
async function openFromPalette(page: IJupyterLabPageFixture): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#modal-command-palette');
  await expect(palette).toBeVisible();
  await palette.locator('.lm-CommandPalette-input').fill('colab-guard');
  const item = palette.locator('.lm-CommandPalette-item', {
    hasText: 'colab-guard: Show Resources Panel'
  });
  await expect(item).toBeVisible();
  await item.click();
  await expect(page.locator(PANEL)).toBeVisible();
}

/** Wait until the panel shows numbers (not "Loading…", not an error). */
async function waitForData(page: IJupyterLabPageFixture): Promise<void> {
  await expect(page.locator(PANEL)).toHaveAttribute('data-state', 'ok', {
    timeout: 15000
  });
}

test.describe('colab-guard panel', () => {
  test('opens from the command palette and shows the real RAM total', async ({
    page
  }) => {
    // Given this machine's RAM according to the kernel
    const total = memTotalBytes();

    // When the panel is opened from the command palette
    await openFromPalette(page);
    await waitForData(page);

    // Then the sidebar tab is active and host RAM shows that total, formatted
    expect(await page.sidebar.isTabOpen(PANEL_ID)).toBe(true);
    const hostRam = page.locator(`${PANEL} [data-testid="host-ram-total"]`);
    await expect(hostRam).toHaveAttribute('data-bytes', String(total));
    await expect(hostRam).toHaveText(`${formatBytes(total)} total`);

    // And the memory bar is an accessible progress bar with a value
    const memoryBar = page.locator(PANEL).getByRole('progressbar', {
      name: 'Memory used',
      exact: true
    });
    await expect(memoryBar).toHaveAttribute('aria-valuemin', '0');
    await expect(memoryBar).toHaveAttribute('aria-valuemax', '100');
    const now = Number(await memoryBar.getAttribute('aria-valuenow'));
    expect(now).toBeGreaterThan(0);
    expect(now).toBeLessThanOrEqual(100);

    // And CPU and disk sections are there
    await expect(
      page.locator(PANEL).getByRole('region', { name: 'CPU' })
    ).toBeVisible();
    await expect(
      page.locator(`${PANEL} [data-disk="root_dir"] [role="progressbar"]`)
    ).toBeVisible();
  });

  test('says what the accelerator probe found', async ({ page, baseURL }) => {
    // Given what the server reports about accelerators
    const resources = await fetchResources(page.request, baseURL!);
    const status: string = resources.accelerator_status;

    // When the panel is opened with its command
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('colab-guard:open');
    });
    await waitForData(page);

    // Then the summary names the accelerators ("CPU only" without any)
    const section = page.locator(PANEL).getByRole('region', {
      name: 'Accelerator'
    });
    const summary = section.locator('.jp-colab-guard-summary');
    await expect(summary).toHaveText(
      acceleratorSummary(resources.accelerators)
    );
    await expect(summary).toHaveAttribute('data-accelerator-status', status);
    if (resources.accelerators.length === 0) {
      await expect(summary).toHaveText('CPU only');
    }

    // And a probe that found nothing says why, with the server's message
    const expected = acceleratorStatusText(status);
    const statusLine = section.locator('.jp-colab-guard-status');
    if (expected === null) {
      await expect(statusLine).toHaveCount(0);
    } else {
      await expect(statusLine).toHaveAttribute('data-status', status);
      await expect(statusLine).toContainText(expected);
      if (resources.accelerator_error) {
        await expect(statusLine).toContainText(resources.accelerator_error);
      }
    }
    if (status === 'no-driver') {
      await expect(statusLine).toContainText('No NVIDIA driver');
    }
  });

  test('shows "server unreachable" instead of stale numbers', async ({
    page
  }) => {
    // Given the panel shows numbers
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('colab-guard:open');
    });
    await waitForData(page);

    // When the endpoint stops answering
    await page.route('**/colab-guard/v1/resources*', route => route.abort());

    // Then the panel says so and drops every figure
    const alert = page.locator(PANEL).getByRole('alert');
    await expect(alert).toContainText('Server unreachable', { timeout: 15000 });
    await expect(page.locator(PANEL)).toHaveAttribute('data-state', 'error');
    await expect(page.locator(`${PANEL} [role="progressbar"]`)).toHaveCount(0);
    await expect(page.locator('.jp-colab-guard-statusitem')).toHaveText(
      'colab-guard: offline'
    );

    // When the endpoint answers again and the panel is shown anew
    await page.unroute('**/colab-guard/v1/resources*');
    await page.sidebar.getTabLocator(PANEL_ID).click(); // collapses the sidebar
    await expect(page.locator(PANEL)).toBeHidden();
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('colab-guard:open');
    });

    // Then the numbers come back without waiting for the backoff
    await waitForData(page);
  });

  test('status bar item summarises and opens the panel', async ({ page }) => {
    // Given the status bar item has data
    const item = page.locator('.jp-colab-guard-statusitem');
    await expect(item).toHaveText(
      / · RAM \d+\.\d\/\d+\.\d [KMGT]iB( · (idle|ends) \d{2,}:\d{2})?$/,
      {
        timeout: 15000
      }
    );
    expect(await page.sidebar.isTabOpen(PANEL_ID)).toBe(false);

    // When it is clicked
    await item.click();

    // Then the panel opens
    await expect(page.locator(PANEL)).toBeVisible();
    expect(await page.sidebar.isTabOpen(PANEL_ID)).toBe(true);
  });

  test('renders a GPU runtime (endpoint answer replaced)', async ({
    page,
    baseURL
  }, testInfo) => {
    // Given the server's answer with a Colab T4 in place of the accelerator probe
    const real = await fetchResources(page.request, baseURL!);
    const GiB = 1024 ** 3;
    const t4 = {
      kind: 'gpu',
      index: 0,
      name: 'Tesla T4',
      uuid: 'GPU-00000000-0000-0000-0000-000000000000',
      memory_total: 15 * GiB,
      memory_used: 12 * GiB,
      utilization_gpu: 2,
      utilization_memory: 1,
      temperature_c: 47,
      power_draw_w: 27.5,
      power_limit_w: 70,
      processes: [{ pid: 1234, used_memory: 12 * GiB }]
    };
    const withGpu = {
      ...real,
      accelerators: [t4],
      accelerator_status: 'ok',
      accelerator_error: null
    };
    await page.route('**/colab-guard/v1/resources*', route =>
      route.fulfill({ json: withGpu })
    );

    // When the panel is opened
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('colab-guard:open');
    });
    await waitForData(page);

    // Then it names the GPU, shows its memory bar and utilisation, and no status line
    const section = page.locator(PANEL).getByRole('region', {
      name: 'Accelerator'
    });
    await expect(section.locator('.jp-colab-guard-summary')).toHaveText(
      'Tesla T4 x1'
    );
    const memory = section.getByRole('progressbar', { name: 'GPU 0 memory' });
    await expect(memory).toHaveAttribute('aria-valuenow', '80');
    await expect(memory).toHaveAttribute('data-level', 'warn');
    await expect(
      section.getByRole('progressbar', { name: 'GPU 0 utilisation' })
    ).toHaveAttribute('aria-valuenow', '2');
    await expect(section.locator('.jp-colab-guard-status')).toHaveCount(0);
    await expect(page.locator('.jp-colab-guard-statusitem')).toHaveText(
      /^T4 · RAM /
    );

    const image = await page.locator(PANEL).screenshot({
      path: testInfo.outputPath('colab-guard-panel-gpu.png')
    });
    await testInfo.attach('colab-guard-panel-gpu', {
      body: image,
      contentType: 'image/png'
    });
  });

  for (const theme of ['light', 'dark'] as const) {
    test(`screenshot in the ${theme} theme`, async ({
      page,
      baseURL
    }, testInfo) => {
      // Given the theme, a window tall enough for the whole panel, and an idle kernel
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
      } else {
        await page.theme.setLightTheme();
      }
      await page.setViewportSize({ width: 1280, height: 1600 });
      const started = await page.request.post(
        `${baseURL!.replace(/\/$/, '')}/api/kernels`,
        { data: { name: 'python3' } }
      );
      const kernel = await started.json();
      try {
        // When the panel shows numbers (and the kernel, where the server has sessions)
        await page.evaluate(async () => {
          await window.jupyterapp.commands.execute('colab-guard:open');
        });
        await waitForData(page);
        const sessions = await page.request.get(
          `${baseURL!.replace(/\/$/, '')}/colab-guard/v1/sessions`
        );
        if (sessions.status() === 200) {
          await expect(
            page.locator(
              `${PANEL} [data-kernel-id="${kernel.id}"] [role="timer"]`
            )
          ).toBeVisible({ timeout: 15000 });
        }

        // Then its screenshot is kept as an artifact (not compared to a baseline)
        const path = testInfo.outputPath(`colab-guard-panel-${theme}.png`);
        const image = await page.locator(PANEL).screenshot({ path });
        await testInfo.attach(`colab-guard-panel-${theme}`, {
          body: image,
          contentType: 'image/png'
        });
        expect(fs.statSync(path).size).toBeGreaterThan(1000);
      } finally {
        await page.request.delete(
          `${baseURL!.replace(/\/$/, '')}/api/kernels/${kernel.id}`
        );
      }
    });
  }
});
