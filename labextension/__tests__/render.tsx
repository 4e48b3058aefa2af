/**
 * Render React elements into the jsdom document for the component tests.
 */
import { act } from 'react';
import * as React from 'react';
import { createRoot } from 'react-dom/client';

import type {
  IPanelActions,
  IPanelUiState,
  IViewOptions
} from '../components/common';
import { loadBundle } from '../i18n';
import { T0 } from './fixtures';

// Tell React that updates are wrapped in act() here.
(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

/** The client clock of the tests (ms), in step with the fixtures' payloads. */
export const NOW = T0 * 1000;

/** The bundle of colab-guard's strings, untranslated. */
export const trans = loadBundle();

/** View options for the tests. */
export function viewOptions(options: Partial<IViewOptions> = {}): IViewOptions {
  return {
    trans,
    units: 'GiB',
    historyMinutes: 10,
    projectionMinutes: 5,
    now: NOW,
    ...options
  };
}

/** Nothing copied, deleted or dismissed. */
export function uiState(state: Partial<IPanelUiState> = {}): IPanelUiState {
  return {
    copied: null,
    deleting: new Set(),
    dismissed: new Set(),
    ...state
  };
}

/** Actions that record their calls. */
export function recordingActions(): IPanelActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    copy: text => calls.push(`copy ${text}`),
    deleteSnapshot: (key, id, notebook) =>
      calls.push(`delete ${key}/${id} of ${notebook}`),
    dismiss: key => calls.push(`dismiss ${key}`)
  };
}

/** A mounted element: its container, and how to change or remove it. */
export interface IRendered {
  container: HTMLElement;
  rerender(element: React.ReactElement): void;
  unmount(): void;
}

/** Mount an element in a container attached to the document. */
export function render(element: React.ReactElement): IRendered {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  act(() => root.render(element));
  return {
    container,
    rerender: next => act(() => root.render(next)),
    unmount: () => {
      act(() => root.unmount());
      container.remove();
    }
  };
}

/** Click an element, inside act(). */
export function click(element: Element | null): void {
  if (!element) {
    throw new Error('nothing to click');
  }
  act(() => {
    (element as HTMLElement).click();
  });
}

/** The element matching a selector, or a failure naming it. */
export function find<T extends Element = HTMLElement>(
  root: ParentNode,
  selector: string
): T {
  const node = root.querySelector<T>(selector);
  if (!node) {
    throw new Error(`nothing matches ${selector}`);
  }
  return node;
}
