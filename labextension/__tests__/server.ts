/**
 * A fake Jupyter server for the model and widget tests: it answers the
 * colab-guard endpoints from a table and records every request.
 */
import { ServerConnection } from '@jupyterlab/services';

import type { GuardModel } from '../model/guard';
import type { ResourceState } from '../model/state';

/** One endpoint's answer: a status and JSON body, or no answer at all. */
export type Answer = { status: number; body?: unknown } | 'network';

/**
 * Server settings whose fetch answers from `answers`, keyed by the endpoint
 * (the path after colab-guard/v1/; a missing one answers 404). The table is
 * read on every request, so a test may change it between polls.
 */
export function fakeServer(answers: { [path: string]: Answer }): {
  serverSettings: ServerConnection.ISettings;
  requests: string[];
} {
  const requests: string[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input as Request;
    const url = new URL(request.url);
    const path = url.pathname.replace('/colab-guard/v1/', '');
    // ServerConnection appends a cache-busting timestamp to GETs: leave it out.
    const search = url.search.replace(/[?&]\d+$/, '');
    requests.push(`${request.method ?? init?.method} ${path}${search}`);
    const answer = answers[path.split('/')[0]] ?? { status: 404 };
    if (answer === 'network') {
      throw new TypeError('Failed to fetch');
    }
    return new Response(
      answer.body === undefined ? null : JSON.stringify(answer.body),
      {
        status: answer.status,
        headers: { 'Content-Type': 'application/json' }
      }
    );
  };
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://server/',
    wsUrl: 'ws://server/',
    fetch: fetch as any,
    Request: Request as any,
    Headers: Headers as any
  });
  return { serverSettings, requests };
}

/**
 * Resolve with the state after the model's next poll, once that poll is over
 * (the model emits before its tick settles, and Poll drops a refresh asked
 * while a refresh is running).
 */
export function nextState(model: GuardModel): Promise<ResourceState> {
  return new Promise<ResourceState>(resolve => {
    const once = (_: GuardModel, state: ResourceState) => {
      model.changed.disconnect(once);
      setTimeout(() => resolve(state), 10);
    };
    model.changed.connect(once);
  });
}
