/**
 * colab-guard in Notebook 7, which has no status bar: the compact indicator
 * at the top of every notebook page, the panel in the page's right sidebar,
 * and notifications.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  binaryBytes,
  binaryPair,
  countdownLevel,
  countdownSeconds,
  expectAccessible,
  getEndpoint,
  INDICATOR,
  openNotebook7,
  PANEL,
  section,
  usageLevel,
  waitForData,
  withIdleKernel
} from './helpers';

// Notebook 7's pages, not JupyterLab's: each test opens its own notebook,
// and a page is ready once Notebook 7's main panel is there.
test.use({
  autoGoto: false,
  waitForApplication: async ({}, use) => {
    await use(async page => {
      await page.locator('#main-panel').waitFor();
    });
  }
});

test.describe('colab-guard in Notebook 7', () => {
  test('the notebook page shows the accelerator, RAM of the real limit and the countdown', async ({
    page,
    baseURL,
    tmpPath
  }, testInfo) => {
    // Given an idle kernel no tab is connected to (the notebook's own is
    // spared from culling while its tab is open)
    await withIdleKernel(page.request, baseURL, async () => {
      // When a notebook is opened in Notebook 7
      await openNotebook7(page, baseURL, `${tmpPath}/indicator.ipynb`);
      const indicator = page.locator(INDICATOR);
      await expect(indicator).toBeVisible({ timeout: 15000 });
      await expect(indicator).toHaveAttribute('data-state', 'ok', {
        timeout: 15000
      });

      // Then it names the accelerator as the server reports it
      const { body } = await getEndpoint(page.request, baseURL, 'resources');
      const accelerator = indicator.locator('[data-part="accelerator"]');
      if (body.accelerators.length === 0) {
        await expect(accelerator).toHaveText('CPU');
      } else {
        await expect(accelerator).not.toHaveText('CPU');
      }

      // And the RAM in use of the limit that applies, in its colour
      const memory = indicator.locator('[data-part="memory"]');
      const limit = body.host.memory.limit;
      const [total, unit] = binaryBytes(limit).split(' ');
      await expect(memory).toHaveText(/^RAM \d+(\.\d)?\/\d+(\.\d)? \S+$/);
      const shown = /^RAM ([\d.]+)\/([\d.]+) (\S+)$/.exec(
        (await memory.textContent())!
      )!;
      expect([shown[2], shown[3]]).toEqual([total, unit]);
      // the working set of a moment ago, to within 5 % of the limit
      const used =
        Number(shown[1]) *
        1024 ** ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'].indexOf(unit);
      expect(
        Math.abs(used - body.host.memory.working_set) / limit
      ).toBeLessThan(0.05);
      expect(await memory.getAttribute('data-level')).toBe(
        usageLevel((used * 100) / limit)
      );

      // And the nearest countdown: the idle kernel's, culled after 600 s
      const countdown = indicator.locator('[data-part="countdown"]');
      await expect(countdown).toHaveText(/^idle \d{2}:\d{2}$/, {
        timeout: 15000
      });
      const seconds = countdownSeconds(
        (await countdown.textContent())!.replace('idle ', '')
      );
      expect(seconds).toBeGreaterThan(0);
      // (the culler checks every 60 s: up to 660 s)
      expect(seconds).toBeLessThanOrEqual(660);
      expect(await countdown.getAttribute('data-level')).toBe(
        countdownLevel(seconds)
      );
      // ...whose accessible name says it all in words
      await expect(indicator).toHaveAttribute(
        'aria-label',
        new RegExp(
          `^colab-guard: .+ of ${binaryBytes(limit)} used; idle culling in \\d{2}:\\d{2}\\. Click to open the panel\\.$`
        )
      );

      const image = await page.screenshot({
        path: testInfo.outputPath('colab-guard-notebook7-indicator.png'),
        clip: { x: 0, y: 0, width: 1280, height: 120 }
      });
      await testInfo.attach('colab-guard-notebook7-indicator', {
        body: image,
        contentType: 'image/png'
      });
    });
  });

  test('the indicator opens the panel in the right sidebar, by mouse and keyboard', async ({
    page,
    baseURL,
    tmpPath
  }, testInfo) => {
    await openNotebook7(page, baseURL, `${tmpPath}/open.ipynb`);
    const indicator = page.locator(INDICATOR);
    await expect(indicator).toHaveAttribute('data-state', 'ok', {
      timeout: 15000
    });
    // The right sidebar is closed by default
    await expect(page.locator(PANEL)).toBeHidden();

    // When the indicator is clicked
    await indicator.click();

    // Then the right sidebar opens on the panel, with its sections
    await expect(page.locator(PANEL)).toBeVisible();
    await waitForData(page);
    await expect(
      section(page, 'Memory').getByRole('meter', { name: 'Memory used' })
    ).toBeVisible();
    await expect(
      section(page, 'Sessions').getByRole('listitem', {
        name: 'Kernel of open.ipynb'
      })
    ).toBeVisible({ timeout: 15000 });

    const image = await page.locator(PANEL).screenshot({
      path: testInfo.outputPath('colab-guard-notebook7-panel.png')
    });
    await testInfo.attach('colab-guard-notebook7-panel', {
      body: image,
      contentType: 'image/png'
    });

    // When the sidebar is closed and the indicator activated from the keyboard
    await page.evaluate(() => {
      (window.jupyterapp.shell as any).collapseRight();
    });
    await expect(page.locator(PANEL)).toBeHidden();
    await indicator.focus();
    await page.keyboard.press('Enter');

    // Then the panel opens again
    await expect(page.locator(PANEL)).toBeVisible();
  });

  test('amber and red as in the panel', async ({ page, baseURL, tmpPath }) => {
    // Given a runtime at 85 % of its limit whose kernel is culled in 90 s
    const real = await getEndpoint(page.request, baseURL, 'resources');
    const memory = real.body.host.memory;
    const tight = {
      ...real.body,
      host: {
        ...real.body.host,
        memory: { ...memory, working_set: Math.round(memory.limit * 0.85) }
      }
    };
    await page.route('**/colab-guard/v1/resources*', route =>
      route.fulfill({ json: tight })
    );
    await page.route('**/colab-guard/v1/sessions*', async route => {
      const response = await route.fetch();
      const sessions = await response.json();
      for (const kernel of sessions.kernels) {
        kernel.seconds_to_cull = 90;
        kernel.cull_reason = 'idle-culling';
      }
      await route.fulfill({ response, json: sessions });
    });

    // When the notebook page shows it
    await openNotebook7(page, baseURL, `${tmpPath}/colours.ipynb`);
    const indicator = page.locator(INDICATOR);

    // Then the RAM is amber and the countdown red, as their figures are in the panel
    await expect(indicator.locator('[data-part="memory"]')).toHaveAttribute(
      'data-level',
      usageLevel(85),
      { timeout: 15000 }
    );
    await expect(indicator.locator('[data-part="countdown"]')).toHaveAttribute(
      'data-level',
      countdownLevel(90),
      { timeout: 15000 }
    );
    await expect(indicator).toHaveAttribute('data-level', 'critical');
    await expect(indicator.locator('[data-part="memory"]')).toHaveText(
      `RAM ${binaryPair(tight.host.memory.working_set, memory.limit)}`
    );

    await indicator.click();
    await waitForData(page);
    await expect(
      section(page, 'Memory').getByRole('meter', { name: 'Memory used' })
    ).toHaveAttribute('data-level', usageLevel(85));
    await expect(
      section(page, 'Sessions').getByRole('timer').first()
    ).toHaveAttribute('data-level', 'critical');
  });

  test('says the server is unreachable', async ({ page, baseURL, tmpPath }) => {
    await openNotebook7(page, baseURL, `${tmpPath}/offline.ipynb`);
    const indicator = page.locator(INDICATOR);
    await expect(indicator).toHaveAttribute('data-state', 'ok', {
      timeout: 15000
    });

    await page.route('**/colab-guard/v1/resources*', route => route.abort());

    await expect(indicator).toHaveText('colab-guard: offline', {
      timeout: 15000
    });
    await indicator.click();
    await expect(page.locator(PANEL).getByRole('alert')).toContainText(
      'Server unreachable'
    );
  });

  test('notifies a kernel killed for lack of memory, as JupyterLab does', async ({
    page,
    baseURL,
    tmpPath
  }) => {
    // Given the server reports a kernel the OOM killer just took, with a snapshot
    const now = Date.now() / 1000;
    const postmortem = {
      kernel_id: 'oom-test',
      notebook: 'work/train.ipynb',
      died_at: now - 5,
      cause: 'oom-killer',
      confidence: 'certain',
      signal: 'SIGKILL',
      exit_code: -9,
      working_set: 11.8 * 1024 ** 3,
      limit: 12 * 1024 ** 3,
      percent: 98.3,
      peak_percent: 99,
      snapshot: {
        key: 'train',
        id: '20240101-000000',
        notebook: 'work/train.ipynb',
        created: new Date((now - 60) * 1000).toISOString(),
        created_ts: now - 60,
        size: 1024,
        variables: { x: 'int' },
        restore: '%guard restore 20240101-000000'
      }
    };
    await page.route('**/colab-guard/v1/postmortems*', route =>
      route.fulfill({ json: { kernels: [postmortem], previous_session: [] } })
    );
    const resources = await getEndpoint(page.request, baseURL, 'resources');
    await page.route('**/colab-guard/v1/resources*', route =>
      route.fulfill({ json: { ...resources.body, timestamp: now } })
    );

    // When a notebook page is open
    await openNotebook7(page, baseURL, `${tmpPath}/notify.ipynb`);

    // Then a notification says which kernel died, why, and how to restore
    const toast = page.locator('.Toastify__toast', {
      hasText: 'The kernel of train.ipynb died'
    });
    await expect(toast).toBeVisible({ timeout: 15000 });
    await expect(toast).toContainText(
      'OOM at 11.8 of 12.0 GiB. Its variables were saved: %guard restore 20240101-000000'
    );
    await expect(
      toast.getByRole('button', { name: 'Copy restore command' })
    ).toBeVisible();

    // And its action opens the panel, whose banner says the same
    await toast.getByRole('button', { name: 'Open colab-guard' }).click();
    await expect(
      page.locator(`${PANEL} .jp-colab-guard-postmortem-title`)
    ).toHaveText('Kernel of train.ipynb died: OOM at 11.8 of 12.0 GiB');
  });

  test('axe finds no serious violation in the indicator or the panel', async ({
    page,
    baseURL,
    tmpPath
  }) => {
    await withIdleKernel(page.request, baseURL, async kernel => {
      await openNotebook7(page, baseURL, `${tmpPath}/axe.ipynb`);
      const indicator = page.locator(INDICATOR);
      await expect(indicator.locator('[data-part="countdown"]')).toBeVisible({
        timeout: 15000
      });
      await expectAccessible(page, '#colab-guard-top-indicator');

      await indicator.click();
      await waitForData(page);
      await expect(
        page.locator(`${PANEL} [data-kernel-id="${kernel.id}"] [role="timer"]`)
      ).toBeVisible({ timeout: 15000 });
      await expectAccessible(page, PANEL);
    });
  });
});
