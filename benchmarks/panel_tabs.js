/**
 * Benchmark: what the colab-guard panel costs, in the browser and on the server.
 *
 * Starts JupyterLab (the UI tests' server config) twice, opens N tabs in Debian's Chromium, and
 * measures over a window the server process's CPU (utime + stime from /proc) and the requests each
 * tab makes to each colab-guard endpoint per minute: (1) with colab-guard's front end disabled
 * (JupyterLab's own polling of N tabs, and colab-guard's sampler, still run), (2) with it enabled
 * and the panel open in every tab. The difference is what the front end costs the server.
 *
 *   NODE_PATH=ui-tests/node_modules node benchmarks/panel_tabs.js [--tabs 20] [--seconds 60]
 *
 * Targets (issue 6): at most one request per endpoint per poll interval per tab; 20 open tabs
 * under 2 % of one core on the server.
 */
const { chromium } = require('@playwright/test');
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const TABS = opt('tabs', 20);
const SECONDS = opt('seconds', 60);
const TOKEN = 'colab-guard-panel-bench';
const CLK_TCK = 100;

function freePort() {
  return new Promise(resolve => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function cpuSeconds(pid) {
  const fields = fs
    .readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

async function waitForServer(url) {
  for (let i = 0; i < 240; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch (e) {
      /* not up yet */
    }
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error('JupyterLab did not start');
}

async function measure(server, pages, counts, label) {
  for (const key of Object.keys(counts)) delete counts[key];
  const cpu0 = cpuSeconds(server.pid);
  const t0 = Date.now();
  await new Promise(r => setTimeout(r, SECONDS * 1000));
  const wall = (Date.now() - t0) / 1000;
  const cpu = (100 * (cpuSeconds(server.pid) - cpu0)) / wall;
  const perTab = {};
  for (const [endpoint, n] of Object.entries(counts)) {
    perTab[endpoint] = (n / pages.length / wall) * 60;
  }
  console.log(`${label}: server CPU ${cpu.toFixed(2)} % of one core`);
  for (const [endpoint, rate] of Object.entries(perTab).sort()) {
    console.log(
      `  ${endpoint.padEnd(34)} ${rate.toFixed(1)} requests per minute per tab`
    );
  }
  return { cpu, perTab };
}

async function run(enabled) {
  const port = await freePort();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-panel-bench-'));
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-panel-config-'));
  fs.mkdirSync(path.join(configDir, 'labconfig'));
  fs.writeFileSync(
    path.join(configDir, 'labconfig', 'page_config.json'),
    JSON.stringify({ disabledExtensions: { 'colab-guard': !enabled } })
  );
  const config = path.join(
    __dirname,
    '..',
    'ui-tests',
    'jupyter_server_test_config.py'
  );
  const server = spawn(
    'jupyter',
    [
      'lab',
      `--config=${config}`,
      `--port=${port}`,
      '--ServerApp.port_retries=0',
      `--IdentityProvider.token=${TOKEN}`,
      `--ServerApp.root_dir=${root}`,
      '--no-browser'
    ],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, JUPYTER_CONFIG_DIR: configDir }
    }
  );
  const base = `http://127.0.0.1:${port}`;
  let browser;
  try {
    await waitForServer(`${base}/api/status?token=${TOKEN}`);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    });
    const context = await browser.newContext();
    const counts = {};
    context.on('request', req => {
      const m = req.url().match(/\/colab-guard\/v1\/([a-z]+)/);
      if (m) counts[m[1]] = (counts[m[1]] || 0) + 1;
    });
    const pages = [];
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      await page.goto(`${base}/lab?token=${TOKEN}&reset`, { timeout: 180000 });
      await page.waitForFunction(
        () => window.jupyterapp && window.jupyterapp.started !== undefined,
        null,
        { timeout: 180000 }
      );
      if (enabled) {
        await page.waitForFunction(
          () =>
            window.jupyterapp &&
            window.jupyterapp.commands.hasCommand('colab-guard:open'),
          null,
          { timeout: 180000 }
        );
        await page.evaluate(() =>
          window.jupyterapp.commands.execute('colab-guard:open')
        );
      }
      pages.push(page);
    }
    await new Promise(r => setTimeout(r, 10000)); // let every tab settle
    return await measure(
      server,
      pages,
      counts,
      `${TABS} tabs, colab-guard front end ${enabled ? 'enabled, panel open' : 'disabled'}`
    );
  } finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
  }
}

(async () => {
  const without = await run(false);
  const withPanel = await run(true);
  console.log(
    `the front end's server cost with ${TABS} tabs: ${(withPanel.cpu - without.cpu).toFixed(2)} % of one core`
  );
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(
    path.join(__dirname, 'results', 'panel_tabs.json'),
    JSON.stringify(
      { tabs: TABS, seconds: SECONDS, without, with: withPanel },
      null,
      2
    )
  );
})().catch(err => {
  console.error(err);
  process.exit(1);
});
