import { expect, test } from '@jupyterlab/galata';

import { openPanel, PANEL, refreshNow, waitForData } from './helpers';

test.describe('colab-guard snapshots and post-mortems', () => {
  test('a snapshot is listed, copied, shown after a kernel death and deleted', async ({
    page,
    context
  }, testInfo) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    // A variable name of this run only, to find its snapshot among others.
    const name = `answer_${Date.now().toString(36)}`;

    // Given a notebook whose kernel saved its variables
    await page.notebook.createNew();
    await page.notebook.setCell(0, 'code', `${name} = 41 + 1\n%guard snapshot`);
    // (not notebook.runCell: it waits for the one status bar text saying
    // "Idle", and colab-guard's item may say "idle 10:00" too)
    await page.notebook.enterCellEditingMode(0);
    await page.keyboard.press('Shift+Enter');

    // When the panel is shown
    await openPanel(page);
    await waitForData(page);

    // Then the snapshot is listed under its notebook with its variable
    // (the idle kernel may add more of its own in the background: the
    // oldest is the one asked for)
    const listed = page.locator(
      `${PANEL} [data-notebook-key] .jp-colab-guard-snapshot`,
      {
        hasText: `${name} (int)`
      }
    );
    await expect(async () => {
      await refreshNow(page);
      await expect(listed.first()).toBeVisible({ timeout: 2000 });
    }).toPass({ timeout: 20000 });
    const command = (await listed.last().locator('code').textContent())!;
    expect(command).toMatch(/^%guard restore \S+$/);
    const item = page.locator(`${PANEL} .jp-colab-guard-snapshot`, {
      has: page.locator('code', { hasText: command })
    });
    await expect(item).toContainText('1 variable');
    const group = page.locator(`${PANEL} [data-notebook-key]`, {
      has: page.locator('.jp-colab-guard-snapshot', {
        hasText: `${name} (int)`
      })
    });
    await expect(group.locator('h4')).toHaveText('Untitled.ipynb');
    // and in a 1600x1000 window, at the sidebar's default width, the newest
    // snapshot's buttons are in view, not cut off below sections that keep
    // empty space (the sections fit their content)
    await page.setViewportSize({ width: 1600, height: 1000 });
    // (a one-line section keeps no empty space: "CPU only" is all it holds)
    await expect
      .poll(() =>
        page
          .locator('#colab-guard-section-accelerator')
          .evaluate(
            section =>
              section.clientHeight -
              (section.querySelector('.jp-colab-guard-view')?.scrollHeight ?? 0)
          )
      )
      .toBeLessThan(24);
    await expect(
      page
        .locator(`${PANEL} .jp-colab-guard-snapshot`)
        .first()
        .getByRole('button', { name: /^Delete snapshot/ })
    ).toBeInViewport();

    // When its restore command is copied with the keyboard
    const copy = item.getByRole('button', { name: /^Copy restore command/ });
    await copy.focus();
    await page.keyboard.press('Enter');

    // Then the clipboard holds it and the button says so
    await expect(copy).toHaveText('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      command
    );

    // When the kernel is killed
    await page.notebook.setCell(
      0,
      'code',
      'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)'
    );
    await page.notebook.enterCellEditingMode(0);
    await page.keyboard.press('Shift+Enter');

    // Then a banner says why it died and which snapshot to restore: the
    // newest of its notebook (the kernel may have saved one more, in the
    // background, after the one asked for)
    const banner = page.locator(`${PANEL} .jp-colab-guard-postmortem`, {
      hasText: 'Kernel of Untitled.ipynb died'
    });
    await expect(async () => {
      await refreshNow(page);
      await expect(banner).toBeVisible({ timeout: 2000 });
    }).toPass({ timeout: 30000 });
    await expect(banner.locator('.jp-colab-guard-postmortem-title')).toHaveText(
      'Kernel of Untitled.ipynb died: Killed (SIGKILL)'
    );
    await expect(banner).toHaveAttribute('role', 'alert');
    const restore = (await banner.locator('code').textContent())!;
    expect(restore).toMatch(/^%guard restore \S+$/);
    await refreshNow(page);
    await expect(
      group.locator('.jp-colab-guard-snapshot code', { hasText: restore })
    ).toHaveCount(1);
    await expect(
      banner.getByRole('button', {
        name: `Copy restore command: ${restore}`
      })
    ).toBeVisible();
    const restarting = page.locator('.jp-Dialog .jp-mod-accept');
    if (await restarting.isVisible()) {
      await restarting.click();
    }

    await page.locator(PANEL).evaluate(node => node.scrollTo(0, 0));
    const image = await page.locator(PANEL).screenshot({
      path: testInfo.outputPath('colab-guard-panel-postmortem.png')
    });
    await testInfo.attach('colab-guard-panel-postmortem', {
      body: image,
      contentType: 'image/png'
    });

    // When it is dismissed, it goes
    await banner.getByRole('button', { name: /^Dismiss/ }).click();
    await expect(banner).toHaveCount(0);

    // When the snapshot is deleted and the dialog confirmed
    await item.getByRole('button', { name: /^Delete snapshot/ }).click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Delete snapshot?');
    await dialog.getByRole('button', { name: 'Delete' }).click();

    // Then it is gone from the panel and from the server
    await expect(item).toHaveCount(0, { timeout: 10000 });
    const left = await page.request.get('/colab-guard/v1/snapshots');
    const commands = (await left.json()).snapshots.map((s: any) => s.restore);
    expect(commands).not.toContain(command);
  });
});
