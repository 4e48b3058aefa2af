import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';
import * as fs from 'fs';

import {
  acceleratorLine,
  binaryBytes,
  expectAccessible,
  getEndpoint,
  PANEL,
  PANEL_ID,
  section,
  STATUS_ITEM,
  waitForData,
  withIdleKernel
} from './helpers';

/** What the panel says when the accelerator probe found none, by its status. */
const PROBE_TEXT: { [status: string]: string } = {
  none: 'No GPU or TPU found',
  'no-driver': 'No NVIDIA driver found',
  error: 'Could not read the accelerators'
};

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

/** Open the panel the way a user would: the command palette, "colab-guard", Enter. */
async function openFromPalette(page: IJupyterLabPageFixture): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#modal-command-palette');
  await expect(palette).toBeVisible();
  await palette.locator('.lm-CommandPalette-input').fill('colab-guard');
  // the panel's command is the first match: Enter opens it
  await expect(
    palette.locator('.lm-CommandPalette-item').first()
  ).toContainText('colab-guard: Show Panel');
  await page.keyboard.press('Enter');
  await expect(page.locator(PANEL)).toBeVisible();
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
    await expect(hostRam).toHaveText(`${binaryBytes(total)} total`);

    // And the memory bar is an accessible meter with a value
    const memoryBar = section(page, 'Memory').getByRole('meter', {
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
      section(page, 'CPU').getByRole('meter', { name: 'CPU' })
    ).toBeVisible();
    await expect(
      section(page, 'Disk').getByRole('meter', { name: 'Notebook directory' })
    ).toBeAttached();
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
    const accelerator = section(page, 'Accelerator');
    const summary = accelerator.locator('.jp-colab-guard-summary');
    await expect(summary).toHaveText(acceleratorLine(resources.accelerators));
    await expect(summary).toHaveAttribute('data-accelerator-status', status);
    if (resources.accelerators.length === 0) {
      await expect(summary).toHaveText('CPU only');
    }

    // And a probe that found nothing says why, with the server's message:
    // on hover where "CPU only" says it all, in a warning box where it failed
    const expected = status === 'ok' ? null : (PROBE_TEXT[status] ?? status);
    const statusLine = accelerator.locator('.jp-colab-guard-status');
    const cpuOnly =
      resources.accelerators.length === 0 &&
      (status === 'none' || status === 'no-driver');
    if (expected === null || cpuOnly) {
      await expect(statusLine).toHaveCount(0);
    }
    if (expected !== null && cpuOnly) {
      const title = (await summary.getAttribute('title')) ?? '';
      expect(title).toContain(expected);
      if (resources.accelerator_error) {
        expect(title).toContain(resources.accelerator_error);
      }
    } else if (expected !== null) {
      await expect(statusLine).toHaveAttribute('data-status', status);
      await expect(statusLine).toContainText(expected);
      if (resources.accelerator_error) {
        await expect(statusLine).toContainText(resources.accelerator_error);
      }
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
    await expect(page.locator(`${PANEL} [role="meter"]`)).toHaveCount(0);
    await expect(page.locator(STATUS_ITEM)).toHaveText('colab-guard: offline');

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
    const item = page.locator(STATUS_ITEM);
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

    // And it is a button for the keyboard too
    await expect(item).toHaveAttribute('role', 'button');
    await page.sidebar.getTabLocator(PANEL_ID).click(); // collapses the sidebar
    await expect(page.locator(PANEL)).toBeHidden();
    await item.focus();
    await page.keyboard.press('Enter');
    await expect(page.locator(PANEL)).toBeVisible();
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
    const accelerator = section(page, 'Accelerator');
    await expect(accelerator.locator('.jp-colab-guard-summary')).toHaveText(
      'Tesla T4 x1'
    );
    const card = accelerator.getByRole('group', { name: 'GPU 0: Tesla T4' });
    const memory = card.getByRole('meter', { name: 'GPU 0 memory' });
    await expect(memory).toHaveAttribute('aria-valuenow', '80');
    await expect(memory).toHaveAttribute(
      'aria-valuetext',
      '12.0 GiB of 15.0 GiB (80%)'
    );
    await expect(memory).toHaveAttribute('data-level', 'warn');
    await expect(
      card.getByRole('meter', { name: 'GPU 0 utilisation' })
    ).toHaveAttribute('aria-valuenow', '2');
    await expect(card).toContainText('47 °C');
    await expect(card).toContainText('28 W / 70 W');
    await expect(accelerator.locator('.jp-colab-guard-status')).toHaveCount(0);
    await expect(page.locator(STATUS_ITEM)).toHaveText(/^T4 · RAM /);

    const image = await page.locator(PANEL).screenshot({
      path: testInfo.outputPath('colab-guard-panel-gpu.png')
    });
    await testInfo.attach('colab-guard-panel-gpu', {
      body: image,
      contentType: 'image/png'
    });
  });

  test('the toolbar button refreshes every endpoint now', async ({ page }) => {
    // Given the panel shows numbers
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('colab-guard:open');
    });
    await waitForData(page);
    await page.waitForTimeout(500);

    // When its refresh button is pressed from the keyboard
    const asked = new Set<string>();
    page.on('request', request => {
      const match = /\/colab-guard\/v1\/(\w+)/.exec(request.url());
      if (match) {
        asked.add(match[1]);
      }
    });
    const refresh = page
      .locator(PANEL)
      .getByRole('toolbar')
      .getByRole('button', { name: 'Refresh now' });
    await refresh.focus();
    await page.keyboard.press('Enter');

    // Then the panel asks the server for everything at once, snapshots and history too
    await expect
      .poll(() => Array.from(asked).sort(), { timeout: 10000 })
      .toEqual(expect.arrayContaining(['history', 'resources', 'snapshots']));
  });

  test('axe finds no serious violation in the panel or the status bar item', async ({
    page,
    baseURL
  }) => {
    const sessions = await getEndpoint(page.request, baseURL, 'sessions');
    await withIdleKernel(page.request, baseURL, async kernel => {
      // Given the panel with a kernel and its countdown, where the server has sessions
      await page.evaluate(async () => {
        await window.jupyterapp.commands.execute('colab-guard:open');
      });
      await waitForData(page);
      if (sessions.status === 200) {
        await expect(
          page.locator(
            `${PANEL} [data-kernel-id="${kernel.id}"] [role="timer"]`
          )
        ).toBeVisible({ timeout: 15000 });
      }

      // Then axe finds nothing serious in either, in both themes
      await expectAccessible(page, PANEL);
      await expectAccessible(page, '.jp-colab-guard-statusbar');
      await page.theme.setDarkTheme();
      await expectAccessible(page, PANEL);
      await expectAccessible(page, '.jp-colab-guard-statusbar');
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
