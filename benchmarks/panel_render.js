/**
 * Benchmark: how long the colab-guard panel takes to render a big runtime.
 *
 * Renders the panel's content in jsdom (through jest, which compiles the
 * TypeScript) for a runtime with 8 GPUs, 50 kernels, 10 snapshots, a
 * post-mortem and 10 minutes of history replayed poll by poll
 * (benchmarks/panel_render.bench.tsx), and reports the median time of
 *
 *   - mount:  the first render into an empty panel,
 *   - update: the render of the next second (every countdown changes), into the live panel,
 *
 * each as a ratio against a baseline measured in the same run and
 * interleaved with it: the same figures written as plain text rows (one DOM
 * element per GPU, kernel and snapshot). The ratios, not the milliseconds,
 * are what compare across machines and runs.
 *
 *   node benchmarks/panel_render.js [--runs 200] [--warmup 30]
 *
 * Writes benchmarks/results/panel_render.json (git-ignored).
 */
const path = require('path');
const fs = require('fs');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

const root = path.resolve(__dirname, '..');
const base = require('../jest.config.js');
const out = path.join(__dirname, 'results', 'panel_render.json');
process.env.PANEL_RENDER_RUNS = String(opt('runs', 200));
process.env.PANEL_RENDER_WARMUP = String(opt('warmup', 30));
process.env.PANEL_RENDER_OUT = out;

// React's production build, as JupyterLab ships it (jest would pick "test").
process.env.NODE_ENV = 'production';

const { runCLI } = require('jest');

const config = {
  rootDir: root,
  roots: ['<rootDir>/benchmarks'],
  testRegex: 'benchmarks/panel_render\\.bench\\.tsx?$',
  testEnvironment: 'jsdom',
  transform: {
    '^.+\\.tsx?$': [
      'ts-jest',
      {
        // Compile each file on its own: benchmarks/ is outside the tsconfig's files.
        tsconfig: {
          esModuleInterop: true,
          isolatedModules: true,
          jsx: 'react',
          module: 'commonjs',
          target: 'ES2018'
        }
      }
    ],
    '^.+\\.jsx?$': [
      'ts-jest',
      {
        tsconfig: {
          allowJs: true,
          esModuleInterop: true,
          isolatedModules: true,
          module: 'commonjs',
          target: 'ES2018'
        }
      }
    ]
  },
  // The unit tests' handling of JupyterLab's ES modules (jest.config.js).
  transformIgnorePatterns: base.transformIgnorePatterns,
  moduleNameMapper: base.moduleNameMapper,
  setupFiles: base.setupFiles,
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  testTimeout: 600000
};

(async () => {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (fs.existsSync(out)) {
    fs.unlinkSync(out);
  }
  const { results } = await runCLI(
    { config: JSON.stringify(config), runInBand: true, silent: false },
    [root]
  );
  if (!results.success || !fs.existsSync(out)) {
    console.error('the benchmark failed');
    process.exit(1);
  }
  const r = JSON.parse(fs.readFileSync(out, 'utf8'));
  const ms = v => `${v.toFixed(3)} ms`;
  console.log(
    `panel render, ${r.gpus} GPUs, ${r.kernels} kernels, ${r.snapshots} snapshots, ` +
      `${r.samples} history samples; median of ${r.runs} runs (${r.implementation})`
  );
  console.log(`  baseline (plain text rows): ${ms(r.baseline)}`);
  console.log(
    `  mount:  ${ms(r.mount)}  = ${r.mountRatio.toFixed(1)} x baseline`
  );
  console.log(
    `  update: ${ms(r.update)}  = ${r.updateRatio.toFixed(1)} x baseline`
  );
  console.log(`  DOM elements in the panel: ${r.elements}`);
})().catch(err => {
  console.error(err);
  process.exit(1);
});
