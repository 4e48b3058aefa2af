import { expect, test } from '@jupyterlab/galata';

import { binaryBytes, getEndpoint, STATUS_ITEM } from './helpers';

test.describe('colab-guard notifications', () => {
  test('warns once when memory passes a low warning level', async ({
    page,
    baseURL
  }) => {
    // Given the memory in use is past 1 % of the real limit on this machine
    const { body } = await getEndpoint(page.request, baseURL, 'resources');
    const memory = body.host.memory;
    const percent = (memory.working_set / memory.limit) * 100;
    expect(
      percent,
      'this machine uses less than 1 % of its memory limit'
    ).toBeGreaterThan(1);
    // and the default level (75 %) has not fired on the first answers
    await expect(page.locator(STATUS_ITEM)).toHaveAttribute(
      'data-state',
      'ok',
      {
        timeout: 15000
      }
    );
    const before = await page.notifications;
    expect(before.filter(n => n.message.startsWith('Memory at'))).toHaveLength(
      0
    );

    // When the warning level is set to 1 % in the settings registry (and the
    // poll interval to its shortest, to see many polls in little time)
    await page.evaluate(async () => {
      const registry = await window.galata.getPlugin(
        '@jupyterlab/apputils-extension:settings'
      );
      await registry!.set('colab-guard:plugin', 'pollInterval', 0.5);
      await registry!.set('colab-guard:plugin', 'memoryWarningPercent', 1);
    });

    // Then a toast says how much of which limit is used
    const toast = page.locator(
      '.Toastify__toast[class*="jp-Notification-Toast-"]',
      {
        hasText: 'Memory at'
      }
    );
    await expect(toast).toBeVisible({ timeout: 15000 });
    await expect(toast).toContainText(
      `of the ${binaryBytes(memory.limit)} limit`
    );

    // And it fires once for the episode, not on each of the next polls
    const requests: string[] = [];
    page.on('request', request => {
      const match = /\/colab-guard\/v1\/(\w+)/.exec(request.url());
      if (match) {
        requests.push(match[1]);
      }
    });
    await page.waitForTimeout(3000);
    const after = await page.notifications;
    expect(after.filter(n => n.message.startsWith('Memory at'))).toHaveLength(
      1
    );

    // (and those polls came from one poller at the new interval: one request
    // per endpoint per poll, the snapshots every 5th)
    const count = (name: string) => requests.filter(r => r === name).length;
    expect(count('resources')).toBeGreaterThanOrEqual(4);
    expect(count('resources')).toBeLessThanOrEqual(8);
    if ((await getEndpoint(page.request, baseURL, 'sessions')).status === 200) {
      expect(count('sessions')).toBe(count('resources'));
    }
    expect(count('snapshots')).toBeLessThanOrEqual(
      Math.ceil(count('resources') / 5) + 1
    );
  });
});
