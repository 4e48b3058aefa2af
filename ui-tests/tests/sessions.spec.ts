import { expect, test } from '@jupyterlab/galata';

import {
  base,
  countdownLevel,
  countdownSeconds,
  getEndpoint,
  openPanel,
  PANEL,
  section,
  STATUS_ITEM,
  usageLevel,
  waitForData
} from './helpers';

test.describe('colab-guard sessions', () => {
  test('a kernel counts down to idle culling', async ({ page, baseURL }) => {
    // The test server culls kernels idle for 600 s, checked every 60 s
    // (jupyter_server_test_config.py).
    const probe = await getEndpoint(page.request, baseURL, 'sessions');
    test.skip(
      probe.status === 404,
      'GET colab-guard/v1/sessions is not on this server yet'
    );
    expect(probe.body.policy.cull_idle_timeout.value).toBe(600);

    // Given an idle kernel with no tab connected (started through the REST API)
    const started = await page.request.post(`${base(baseURL)}/api/kernels`, {
      data: { name: 'python3' }
    });
    expect(started.status()).toBe(201);
    const kernel = await started.json();
    try {
      // When the panel shows it
      await openPanel(page);
      await waitForData(page);
      const item = page.locator(`${PANEL} [data-kernel-id="${kernel.id}"]`);
      const timer = item.getByRole('timer');
      await expect(timer).toHaveText(/^\d{2}:\d{2}$/, { timeout: 15000 });

      // Then its countdown decreases between two reads
      const first = countdownSeconds(await timer.textContent());
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(600 + 60);
      await page.waitForTimeout(3000);
      const second = countdownSeconds(await timer.textContent());
      expect(second).toBeLessThan(first);
      expect(second).toBeGreaterThanOrEqual(first - 10);

      // And it names what ends the kernel, with the setting and its source on hover
      await expect(item).toContainText('Idle culling in');
      await expect(timer).toHaveAttribute(
        'title',
        'Idle kernels culled after 10 min (MappingKernelManager.cull_idle_timeout)'
      );
      await expect(timer).toHaveAttribute('data-level', 'ok');

      // And the status bar shows the smallest countdown, coloured as in the panel
      const statusItem = page.locator(STATUS_ITEM);
      await expect(statusItem).toHaveText(/ · RAM .+ · idle \d{2,}:\d{2}$/);
      const left = countdownSeconds(
        /(\d{2,}:\d{2})$/.exec((await statusItem.textContent())!)![1]
      );
      const { body } = await getEndpoint(page.request, baseURL, 'resources');
      const memory = body.host.memory;
      const memoryLevel = usageLevel((memory.working_set * 100) / memory.limit);
      const worst = [memoryLevel, countdownLevel(left)].includes('critical')
        ? 'critical'
        : [memoryLevel, countdownLevel(left)].includes('warn')
          ? 'warn'
          : 'ok';
      await expect(statusItem).toHaveAttribute('data-level', worst);
    } finally {
      await page.request.delete(`${base(baseURL)}/api/kernels/${kernel.id}`);
    }
  });

  test('hides what the server does not have and says what failed', async ({
    page
  }) => {
    // Given a server without the sessions endpoint whose snapshots endpoint fails
    await page.route('**/colab-guard/v1/sessions*', route =>
      route.fulfill({ status: 404, json: { message: 'Not Found' } })
    );
    await page.route('**/colab-guard/v1/snapshots*', route =>
      route.fulfill({ status: 500, json: { message: 'boom' } })
    );

    // When the panel is opened
    await openPanel(page);
    await waitForData(page);

    // Then the sessions section is left out, the snapshots section says it failed,
    // and the rest is shown
    const snapshots = section(page, 'Snapshots');
    await expect(snapshots).toContainText('Server error (HTTP 500)', {
      timeout: 15000
    });
    await expect(section(page, 'Sessions')).toHaveCount(0);
    await expect(
      page.locator(PANEL).getByRole('heading', { name: 'Sessions Section' })
    ).toHaveCount(0);
    await expect(section(page, 'Memory')).toBeVisible();
    await expect(page.locator(STATUS_ITEM)).toHaveText(/ · RAM [^·]+$/);
  });
});
