/**
 * The compact summary shown outside the panel: "T4 · RAM 9.1/12.7 GiB ·
 * idle 82:10" (the accelerator, the working set of the real limit, the
 * nearest countdown), amber or red as the same figures are in the panel.
 * JupyterLab shows it in the status bar, Notebook 7 at the top of its pages.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import {
  acceleratorShortSummary,
  countdownShortLabel,
  cullReasonText
} from '../format/labels';
import {
  ByteUnits,
  formatBytes,
  formatBytesPair,
  formatCountdown
} from '../format/units';
import type { IndicatorView } from '../model/selectors';
import type { Level } from '../model/state';
import { CSS } from './common';

/** The Notebook 7 indicator (a button that opens the panel). */
export const INDICATOR_CLASS = `${CSS}-indicator`;
/** One part of the indicator (data-part: accelerator, memory, countdown). */
export const INDICATOR_PART_CLASS = `${CSS}-indicator-part`;

/** One part of the summary, with its colour. */
export interface IIndicatorPart {
  key: 'accelerator' | 'memory' | 'countdown' | 'status';
  text: string;
  level: Level;
}

/** The summary in words: its parts, the whole line, its hover text and colour. */
export interface IIndicatorText {
  parts: IIndicatorPart[];
  /** The parts joined: "T4 · RAM 9.1/12.7 GiB · idle 82:10". */
  text: string;
  /** Hover text and accessible name: every figure in words, and what a click does. */
  title: string;
  /** The most alarming part's colour. */
  level: Level;
}

/** The summary of an {@link IndicatorView}, in words. */
export function indicatorText(
  trans: TranslationBundle,
  view: IndicatorView,
  units: ByteUnits
): IIndicatorText {
  if (view.status === 'loading') {
    const text = trans.__('colab-guard…');
    return {
      parts: [{ key: 'status', text, level: 'ok' }],
      text,
      title: trans.__('colab-guard: loading'),
      level: 'ok'
    };
  }
  if (view.status === 'error') {
    const text = trans.__('colab-guard: offline');
    return {
      parts: [{ key: 'status', text, level: 'ok' }],
      text,
      title: trans.__(
        'colab-guard: server unreachable. Click to open the panel.'
      ),
      level: 'ok'
    };
  }
  const parts: IIndicatorPart[] = [
    {
      key: 'accelerator',
      text: acceleratorShortSummary(trans, view.accelerators),
      level: 'ok'
    },
    {
      key: 'memory',
      text: trans.__(
        'RAM %1',
        formatBytesPair(trans, view.workingSet, view.limit, units)
      ),
      level: view.memoryLevel
    }
  ];
  let title = trans.__(
    'colab-guard: %1 of %2 used',
    formatBytes(trans, view.workingSet, units),
    formatBytes(trans, view.limit, units)
  );
  const countdown = view.countdown;
  if (countdown) {
    const left = formatCountdown(trans, countdown.seconds);
    parts.push({
      key: 'countdown',
      text: trans.__(
        '%1 %2',
        countdownShortLabel(trans, countdown.reason),
        left
      ),
      level: countdown.level
    });
    title = trans.__(
      '%1; %2 in %3',
      title,
      cullReasonText(trans, countdown.reason),
      left
    );
  }
  return {
    parts,
    text: parts.map(p => p.text).join(' · '),
    title: trans.__('%1. Click to open the panel.', title),
    level: view.status === 'ok' ? view.level : 'ok'
  };
}

/**
 * The indicator as a button whose parts are coloured one by one; Enter,
 * Space or a click opens the panel.
 */
export function Indicator(props: {
  summary: IIndicatorText;
  state: string;
  onOpen: () => void;
}): JSX.Element {
  const { summary } = props;
  return (
    <button
      type="button"
      className={INDICATOR_CLASS}
      title={summary.title}
      aria-label={summary.title}
      data-state={props.state}
      data-level={summary.level}
      onClick={props.onOpen}
    >
      {summary.parts.map((part, i) => (
        <React.Fragment key={part.key}>
          {i > 0 ? (
            <span className={`${INDICATOR_CLASS}-separator`} aria-hidden="true">
              {' · '}
            </span>
          ) : null}
          <span
            className={INDICATOR_PART_CLASS}
            data-part={part.key}
            data-level={part.level}
          >
            {part.text}
          </span>
        </React.Fragment>
      ))}
    </button>
  );
}
