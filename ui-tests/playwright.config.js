/**
 * Playwright configuration: Galata's defaults for JupyterLab, plus the
 * browser to use and the JupyterLab server to start.
 */
const fs = require('fs');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

/**
 * Use a system Chromium when Playwright's own browser is not installed
 * (e.g. on a closed network): CHROMIUM_PATH wins, then the Debian/Ubuntu
 * package's path; otherwise Playwright's downloaded browser is used.
 */
function chromiumPath() {
  if (process.env.CHROMIUM_PATH) {
    return process.env.CHROMIUM_PATH;
  }
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(p =>
    fs.existsSync(p)
  );
}

const executablePath = chromiumPath();

module.exports = {
  ...baseConfig,
  // One JupyterLab server is shared by all tests; keep them in one worker.
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    ...baseConfig.use,
    // Video needs Playwright's own ffmpeg, absent with a system Chromium.
    video: executablePath ? 'off' : 'retain-on-failure',
    trace: 'retain-on-failure',
    launchOptions: executablePath
      ? {
          executablePath,
          args: [
            // CI containers run as root, where Chromium's sandbox cannot start.
            '--no-sandbox',
            '--disable-gpu',
            // Keep Chromium from stalling on a closed network.
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run'
          ]
        }
      : {}
  },
  webServer: {
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
