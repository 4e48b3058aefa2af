import { afterEach, describe, expect, it } from '@jest/globals';

import { GuardModel } from '../model/guard';
import { resources, sessions, T0 } from './fixtures';
import { Answer, fakeServer, nextState } from './server';

/** Models to dispose after each test, so no poll timer outlives it. */
const models: GuardModel[] = [];
function track(model: GuardModel): GuardModel {
  models.push(model);
  return model;
}
afterEach(() => {
  models.splice(0).forEach(m => m.dispose());
});

/** A model against a fake server (see `server.ts`) that polls only when asked. */
function setup(answers: { [path: string]: Answer }) {
  const { serverSettings, requests } = fakeServer(answers);
  // A long interval: polls happen only when the test asks (refresh).
  const model = track(
    new GuardModel({
      serverSettings,
      auto: false,
      standby: 'never',
      settings: { pollInterval: 3600 }
    })
  );
  return { model, requests, nextState: () => nextState(model), answers };
}

const OK: { [path: string]: Answer } = {
  resources: { status: 200, body: resources() },
  sessions: { status: 200, body: sessions([{}]) },
  snapshots: { status: 200, body: { snapshot_dir: '/s', snapshots: [] } },
  postmortems: { status: 200, body: { kernels: [], previous_session: [] } },
  history: {
    status: 200,
    body: {
      interval: 1,
      t: [T0 - 5],
      memory_working_set: [1],
      memory_limit: 2,
      gpu_utilization: [],
      gpu_memory_used: []
    }
  }
};

describe('GuardModel', () => {
  it('asks every endpoint on the first poll and only resources and sessions on the next', async () => {
    const { model, requests, nextState } = setup({ ...OK });

    // When the first poll runs
    let state = nextState();
    void model.start();
    const first = await state;

    // Then it asked each endpoint once, the history for the window shown
    expect(requests.sort()).toEqual([
      'GET history?seconds=600',
      'GET postmortems',
      'GET resources',
      'GET sessions',
      'GET snapshots'
    ]);
    expect(first.status).toBe('ok');
    if (first.status === 'ok') {
      expect(first.sessions?.status).toBe('ok');
      expect(first.snapshots?.status).toBe('ok');
      expect(first.history?.t).toEqual([T0 - 5, T0]);
    }

    // When the next poll runs
    requests.length = 0;
    state = nextState();
    void model.refresh();
    const second = await state;

    // Then only the fast endpoints were asked; the others' answers are kept
    expect(requests.sort()).toEqual(['GET resources', 'GET sessions']);
    expect(second.status === 'ok' && second.snapshots?.status).toBe('ok');

    // And a full refresh asks everything again
    requests.length = 0;
    state = nextState();
    void model.refresh(true);
    await state;
    expect(requests).toHaveLength(5);
  });

  it('leaves out an endpoint the server does not have', async () => {
    const { model, requests, nextState } = setup({
      ...OK,
      sessions: { status: 404 }
    });
    let state = nextState();
    void model.start();
    const first = await state;
    expect(first.status === 'ok' && first.sessions?.status).toBe('absent');

    requests.length = 0;
    state = nextState();
    void model.refresh();
    await state;
    expect(requests).toEqual(['GET resources']);
  });

  it('says the server is unreachable instead of keeping stale numbers', async () => {
    const { model, nextState, answers } = setup({ ...OK });
    let state = nextState();
    void model.start();
    expect((await state).status).toBe('ok');

    answers.resources = 'network';
    state = nextState();
    void model.refresh();
    const failed = await state;
    expect(failed).toEqual({
      status: 'error',
      failure: { kind: 'network' },
      message: 'Failed to fetch'
    });
  });

  it('sends DELETE for a snapshot, its names escaped, and drops it from the list', async () => {
    // Given a listed snapshot
    const listed = {
      snapshot_dir: '/s',
      snapshots: [
        { key: 'my notebook', id: 'a/b' },
        { key: 'my notebook', id: 'c' }
      ]
    };
    const { model, requests, answers, nextState } = setup({
      ...OK,
      snapshots: { status: 200, body: listed }
    });
    const state = nextState();
    void model.start();
    await state;

    // When it is deleted
    requests.length = 0;
    answers.snapshots = { status: 204 };
    await model.deleteSnapshot('my notebook', 'a/b');

    // Then the server got the DELETE and the list no longer has it
    expect(requests[0]).toBe('DELETE snapshots/my%20notebook/a%2Fb');
    const after = model.state;
    expect(
      after.status === 'ok' &&
        after.snapshots?.status === 'ok' &&
        after.snapshots.data.snapshots.map(s => s.id)
    ).toEqual(['c']);
  });

  it("rejects a failed delete with the server's message", async () => {
    const { model } = setup({
      snapshots: { status: 400, body: { message: 'not a snapshot name: ..' } }
    });
    await expect(model.deleteSnapshot('k', '..')).rejects.toThrow(
      'not a snapshot name: ..'
    );
  });
});
