/**
 * Jest runs the front-end unit tests (labextension/__tests__/*.spec.ts)
 * through ts-jest; they cover pure logic, so node is the test environment.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/labextension'],
  testRegex: 'labextension/(.*/)?__tests__/.*\\.spec\\.tsx?$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }]
  },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  collectCoverageFrom: [
    'labextension/**/*.{ts,tsx}',
    '!labextension/**/*.d.ts',
    '!labextension/**/__tests__/**'
  ],
  coverageReporters: ['lcov', 'text']
};
