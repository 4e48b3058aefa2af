import { describe, expect, it } from '@jest/globals';
import * as fs from 'fs';
import * as path from 'path';

import { DEFAULT_SETTINGS, readSettings } from '../settings';

const schema = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'schema', 'plugin.json'), 'utf-8')
);

describe('settings', () => {
  it("has the schema's properties and defaults", () => {
    const defaults = Object.fromEntries(
      Object.entries(schema.properties).map(([name, p]: [string, any]) => [
        name,
        p.default
      ])
    );
    expect(defaults).toEqual({ ...DEFAULT_SETTINGS });
    expect(schema.additionalProperties).toBe(false);
  });

  it('takes valid values', () => {
    const s = readSettings({
      pollInterval: 5,
      memoryWarningPercent: 1,
      units: 'GB',
      notifyOom: false
    });
    expect(s.pollInterval).toBe(5);
    expect(s.memoryWarningPercent).toBe(1);
    expect(s.units).toBe('GB');
    expect(s.notifyOom).toBe(false);
  });

  it('falls back to the defaults for missing or invalid values', () => {
    expect(readSettings(null)).toEqual(DEFAULT_SETTINGS);
    const s = readSettings({
      pollInterval: 0,
      memoryWarningPercent: 'high',
      units: 'KB',
      notifyIdle: 'yes'
    });
    expect(s.pollInterval).toBe(2);
    expect(s.memoryWarningPercent).toBe(75);
    expect(s.units).toBe('GiB');
    expect(s.notifyIdle).toBe(true);
    expect(readSettings({ slowPollEvery: 2.6 }).slowPollEvery).toBe(3);
  });
});
