/**
 * Jest runs the front-end unit tests (labextension/__tests__/*.spec.ts[x])
 * through ts-jest. Pure logic runs in node; the components and widgets in
 * jsdom (`@jest-environment jsdom` at the top of their spec).
 *
 * JupyterLab's packages ship ES modules: they are compiled to CommonJS too
 * (as @jupyterlab/testing's configuration does with Babel), their .svg
 * imports mocked, and what jsdom lacks shimmed.
 */
const esModules = [
  '@jupyterlab',
  '@jupyter',
  '@microsoft',
  'exenv-es6',
  'lib0',
  'nanoid',
  'y-protocols',
  'yjs'
].join('|');

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/labextension'],
  testRegex: 'labextension/(.*/)?__tests__/.*\\.spec\\.tsx?$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
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
  transformIgnorePatterns: [`/node_modules/(?!(${esModules})/)`],
  moduleNameMapper: {
    '\\.svg$': '<rootDir>/labextension/__tests__/svg.js'
  },
  setupFiles: ['<rootDir>/labextension/__tests__/jsdom-shim.js'],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  collectCoverageFrom: [
    'labextension/**/*.{ts,tsx}',
    '!labextension/**/*.d.ts',
    '!labextension/**/__tests__/**'
  ],
  coverageReporters: ['lcov', 'text']
};
