import { describe, expect, it } from '@jest/globals';

import { collectAlerts, RECENT_DEATH_SECONDS } from '../notifications/alerts';
import { EpisodeTracker } from '../notifications/episodes';
import { loadBundle } from '../i18n';
import { DEFAULT_SETTINGS, IGuardSettings } from '../settings';
import { GiB, oom, resources, sessions, T0 } from './fixtures';

const trans = loadBundle();

const settings = (over: Partial<IGuardSettings> = {}): IGuardSettings => ({
  ...DEFAULT_SETTINGS,
  ...over
});

describe('collectAlerts', () => {
  it('warns when memory passes the warning level', () => {
    expect(
      collectAlerts(trans, { resources: resources(8 * GiB) }, settings())
    ).toEqual([]);
    const [alert] = collectAlerts(
      trans,
      { resources: resources(9 * GiB) },
      settings()
    );
    expect(alert.key).toBe('memory');
    expect(alert.type).toBe('warning');
    expect(alert.message).toBe(
      'Memory at 75% of the 12.0 GiB limit (container limit): 9.0 GiB in use.'
    );
    expect(
      collectAlerts(trans, { resources: resources(11 * GiB) }, settings())[0]
        .type
    ).toBe('error');
  });

  it('uses the configured level and units, and can be turned off', () => {
    expect(
      collectAlerts(
        trans,
        { resources: resources(GiB) },
        settings({ memoryWarningPercent: 1 })
      )
    ).toHaveLength(1);
    expect(
      collectAlerts(
        trans,
        { resources: resources(11 * GiB) },
        settings({ notifyMemory: false })
      )
    ).toEqual([]);
    const [alert] = collectAlerts(
      trans,
      { resources: resources(11 * GiB) },
      settings({ units: 'GB' })
    );
    expect(alert.message).toContain('12.9 GB limit');
  });

  it('warns before an idle kernel is culled, per kernel', () => {
    const s = sessions([
      { seconds_to_cull: 299 },
      { seconds_to_cull: 900 },
      { seconds_to_cull: null }
    ]);
    const alerts = collectAlerts(
      trans,
      { resources: resources(GiB), sessions: s },
      settings()
    );
    expect(alerts.map(a => a.key)).toEqual(['idle:k0']);
    expect(alerts[0].message).toBe(
      'The kernel of nb0.ipynb is shut down for inactivity in 04:59. Run a cell to keep it.'
    );
    expect(
      collectAlerts(
        trans,
        { resources: resources(GiB), sessions: s },
        settings({ idleWarningMinutes: 20 })
      ).map(a => a.key)
    ).toEqual(['idle:k0', 'idle:k1']);
    expect(
      collectAlerts(
        trans,
        { resources: resources(GiB), sessions: s },
        settings({ notifyIdle: false })
      )
    ).toEqual([]);
  });

  it('warns once for a runtime-wide end, not once per kernel', () => {
    // Given two kernels whose countdown is the runtime's idle disconnect (ColabGuard.idle_timeout)
    const s = sessions(
      [
        { seconds_to_cull: 200, cull_reason: 'idle-timeout' },
        { seconds_to_cull: 200, cull_reason: 'idle-timeout' }
      ],
      {
        server: {
          started: null,
          last_activity: null,
          seconds_to_shutdown: null,
          lifetime_ends_at: null,
          seconds_to_lifetime_end: null,
          seconds_to_idle_disconnect: 200
        }
      }
    );
    const alerts = collectAlerts(
      trans,
      { resources: resources(GiB), sessions: s },
      settings()
    );
    expect(alerts.map(a => a.key)).toEqual(['server:idle']);
    expect(alerts[0].message).toBe(
      'This runtime is disconnected for inactivity in 03:20. Save your work.'
    );
  });

  it("warns before the server's own shutdown and the end of its lifetime", () => {
    const s = sessions([], {
      server: {
        started: null,
        last_activity: null,
        seconds_to_shutdown: 120,
        lifetime_ends_at: null,
        seconds_to_lifetime_end: 60,
        seconds_to_idle_disconnect: 3000
      }
    });
    const keys = collectAlerts(
      trans,
      { resources: resources(GiB), sessions: s },
      settings()
    ).map(a => a.key);
    expect(keys).toEqual(['server:lifetime', 'server:shutdown']);
  });

  it('reports a recent OOM kill with its restore command', () => {
    const postmortems = { kernels: [oom()], previous_session: [] };
    const [alert] = collectAlerts(
      trans,
      { resources: resources(GiB), postmortems },
      settings()
    );
    expect(alert.kind).toBe('oom');
    expect(alert.type).toBe('error');
    expect(alert.message).toBe(
      'The kernel of train.ipynb died: OOM at 11.8 of 12.0 GiB. Its variables were saved: %guard restore 20231114-220000'
    );
    expect(alert.message.length).toBeLessThanOrEqual(140);
    expect(alert.restore).toBe('%guard restore 20231114-220000');
  });

  it('leaves out old deaths, other causes, and a turned-off rule', () => {
    const old = oom({ died_at: T0 - RECENT_DEATH_SECONDS - 1 });
    const killed = oom({ cause: 'killed', kernel_id: 'k2' });
    const noSnapshot = oom({
      kernel_id: 'k3',
      snapshot: null,
      previous_session: true,
      died_at: '2023-11-14T22:12:00Z'
    });
    const postmortems = {
      kernels: [old, killed],
      previous_session: [noSnapshot]
    };
    const alerts = collectAlerts(
      trans,
      { resources: resources(GiB), postmortems },
      settings()
    );
    expect(alerts.map(a => a.message)).toEqual([
      'The kernel of train.ipynb died: OOM at 11.8 of 12.0 GiB. No snapshot was saved.'
    ]);
    expect(
      collectAlerts(
        trans,
        { resources: resources(GiB), postmortems },
        settings({ notifyOom: false })
      )
    ).toEqual([]);
  });

  it('passes on the low-utilisation advice in a short message', () => {
    const s = sessions([], {
      warnings: [
        {
          kind: 'low-utilization',
          minutes: 12.4,
          message: 'long advice '.repeat(30)
        }
      ],
      cost: {
        rate: 0.5,
        unit: 'USD',
        pattern: 'T4',
        accrued: 1.5,
        accrued_low_utilization: 0.1,
        hours: 3,
        low_utilization_threshold: 10
      }
    });
    const [alert] = collectAlerts(
      trans,
      { resources: resources(GiB), sessions: s },
      settings()
    );
    expect(alert.key).toBe('low-utilization');
    expect(alert.message).toBe(
      'GPU under 10% for 12 min while holding memory: 0.10 USD spent at low utilisation. See the colab-guard panel for causes.'
    );
    expect(alert.message.length).toBeLessThanOrEqual(140);
    expect(
      collectAlerts(
        trans,
        { resources: resources(GiB), sessions: s },
        settings({ notifyLowUtilization: false })
      )
    ).toEqual([]);
  });

  it('with the episode tracker, notifies once per episode over a run of polls', () => {
    // Given memory over the level for 3 polls, under for 2, over again
    const tracker = new EpisodeTracker({ clearAfter: 2 });
    const polls = [10, 10, 10, 5, 5, 10].map(g => resources(g * GiB));

    // When each poll's alerts go through the tracker
    const fired = polls.map(r =>
      tracker.update(
        collectAlerts(trans, { resources: r }, settings()).map(a => a.key)
      )
    );

    // Then it fires on the first poll and after the episode ended
    expect(fired).toEqual([['memory'], [], [], [], [], ['memory']]);
  });
});
