/**
 * The building blocks of the panel's sections: rows, meters, sparklines,
 * countdowns, commands to copy, and what a section shows before its data.
 * React components of plain props; nothing here polls or keeps state.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { fetchFailureText } from '../format/labels';
import { formatDuration } from '../format/time';
import {
  ByteUnits,
  clampPercent,
  formatBytes,
  formatBytesPair,
  formatCountdown,
  formatPercent
} from '../format/units';
import { percentOf } from '../model/selectors';
import {
  countdownLevel,
  EndpointState,
  IFetchFailure,
  usageLevel
} from '../model/state';
import { sparklinePath, valueRange } from '../model/series';
import type { IHistory } from '../model/types';

/** Prefix of every colab-guard CSS class. */
export const CSS = 'jp-colab-guard';
/** A "label: value" line. */
export const ROW_CLASS = `${CSS}-row`;
/** The label of a row. */
export const ROW_LABEL_CLASS = `${CSS}-row-label`;
/** The value of a row. */
export const ROW_VALUE_CLASS = `${CSS}-row-value`;
/** A small secondary line. */
export const DETAIL_CLASS = `${CSS}-detail`;
/** A meter: its label and value, the bar, a detail line. */
export const METER_CLASS = `${CSS}-meter`;
/** The bar of a meter (role="meter", its colour from data-level). */
export const BAR_CLASS = `${CSS}-bar`;
/** The filled part of a bar. */
export const BAR_FILL_CLASS = `${CSS}-bar-fill`;
/** An inline SVG sparkline. */
export const SPARKLINE_CLASS = `${CSS}-sparkline`;
/** A countdown (role="timer"; amber under 10 minutes, red under 2). */
export const COUNTDOWN_CLASS = `${CSS}-countdown`;
/** A button of the panel. */
export const BUTTON_CLASS = `${CSS}-button`;
/** A command to paste, with its copy button. */
export const COMMAND_CLASS = `${CSS}-command`;
/** An endpoint's failure, or the whole panel's. */
export const ERROR_CLASS = `${CSS}-error`;
/** The body of one section of the panel. */
export const SECTION_BODY_CLASS = `${CSS}-section-body`;

/** What every view needs besides the payloads. */
export interface IViewOptions {
  /** The bundle of colab-guard's strings. */
  trans: TranslationBundle;
  units: ByteUnits;
  /** Minutes drawn in the sparklines. */
  historyMinutes: number;
  /** Minutes fitted for the memory projection. */
  projectionMinutes: number;
  /** Client clock in ms: countdowns run down by the time since their answer. */
  now: number;
}

/** Data attributes (data-*) passed through to an element, for tests and styles. */
export type DataAttributes = { [name: `data-${string}`]: string | number };

/** A "label: value" line. */
export function Row(props: {
  label: string;
  children: React.ReactNode;
  /** Props of the value element. */
  valueProps?: React.HTMLAttributes<HTMLSpanElement> & DataAttributes;
  /** Props of the row element. */
  rowProps?: React.HTMLAttributes<HTMLDivElement> & DataAttributes;
}): JSX.Element {
  const { className, ...valueProps } = props.valueProps ?? {};
  return (
    <div className={ROW_CLASS} {...props.rowProps}>
      <span className={ROW_LABEL_CLASS}>{props.label}</span>
      <span
        className={
          className ? `${ROW_VALUE_CLASS} ${className}` : ROW_VALUE_CLASS
        }
        {...valueProps}
      >
        {props.children}
      </span>
    </div>
  );
}

/**
 * Text whose long identifiers (settings, paths) wrap after their dots,
 * slashes and underscores rather than mid-word at a narrow sidebar's edge:
 * `<wbr>` marks the places, and copies as nothing.
 */
export function Breakable(props: { text: string }): JSX.Element {
  const parts = props.text.split(/(?<=[./_])(?=[^./_\s])/);
  return (
    <>
      {parts.map((part, i) => (
        <React.Fragment key={i}>
          {i > 0 ? <wbr /> : null}
          {part}
        </React.Fragment>
      ))}
    </>
  );
}

/** A small secondary line. */
export function Detail(
  props: React.HTMLAttributes<HTMLDivElement> & DataAttributes
): JSX.Element {
  const { className, ...rest } = props;
  return (
    <div
      className={className ? `${DETAIL_CLASS} ${className}` : DETAIL_CLASS}
      {...rest}
    />
  );
}

/** Props of {@link Meter}. */
export interface IMeterProps {
  /** Accessible name (and visible label unless `shortLabel` is given). */
  label: string;
  /** Visible label where the context already names the device. */
  shortLabel?: string;
  /** Percentage shown (null when unknown). */
  percent: number | null;
  /** Visible text next to the label, e.g. "9.1/12.7 GiB · 72%". */
  text: string;
  /** Spoken value, e.g. "9.1 GiB of 12.7 GiB (72%)". */
  valueText: string;
  /** Secondary line under the bar. */
  detail?: string;
  /** Hover text of the secondary line. */
  detailTitle?: string;
  /** Attributes of the meter's root (data-* for tests). */
  attrs?: DataAttributes;
  /** Drawn under the bar (a sparkline). */
  children?: React.ReactNode;
}

/**
 * A labelled bar: role="meter" with its range, value and spoken value; amber
 * from 80 %, red from 90 %.
 */
export function Meter(props: IMeterProps): JSX.Element {
  const clamped = clampPercent(props.percent);
  return (
    <div className={METER_CLASS} {...props.attrs}>
      <div className={`${CSS}-meter-label`}>
        <span className={`${CSS}-meter-name`} aria-hidden="true">
          {props.shortLabel ?? props.label}
        </span>
        <span className={`${CSS}-meter-text`} aria-hidden="true">
          {props.text}
        </span>
      </div>
      <div
        className={BAR_CLASS}
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={props.percent === null ? undefined : Math.round(clamped)}
        aria-valuetext={props.valueText}
        data-level={usageLevel(props.percent)}
      >
        <div className={BAR_FILL_CLASS} style={{ width: `${clamped}%` }} />
      </div>
      {props.detail ? (
        <Detail title={props.detailTitle}>{props.detail}</Detail>
      ) : null}
      {props.children}
    </div>
  );
}

/** A meter of used/total bytes. */
export function BytesMeter(
  props: Omit<IMeterProps, 'percent' | 'text' | 'valueText'> & {
    used: number;
    total: number;
    options: IViewOptions;
  }
): JSX.Element {
  const { used, total, options, attrs, ...rest } = props;
  const { trans, units } = options;
  const percent = percentOf(used, total);
  return (
    <Meter
      {...rest}
      percent={percent}
      text={`${formatBytesPair(trans, used, total, units)} · ${formatPercent(trans, percent)}`}
      valueText={trans.__(
        '%1 of %2 (%3)',
        formatBytes(trans, used, units),
        formatBytes(trans, total, units),
        formatPercent(trans, percent)
      )}
      attrs={{ 'data-used': used, 'data-total': total, ...attrs }}
    />
  );
}

/** Width and height of a sparkline's viewBox. */
const SPARK_W = 200;
const SPARK_H = 24;

function lastValue(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) {
      return v;
    }
  }
  return null;
}

/**
 * An inline SVG sparkline of `values` over the last minutes, 0 at the bottom
 * and `max` at the top; role="img", its accessible name sums it up.
 */
export function Sparkline(props: {
  label: string;
  history: IHistory | undefined;
  values: (number | null)[] | undefined;
  max: number | null | undefined;
  options: IViewOptions;
  format: (value: number) => string;
}): JSX.Element {
  const { trans, historyMinutes } = props.options;
  const t = props.history?.t ?? [];
  const end = t.length ? t[t.length - 1] : 0;
  const values = props.values;
  const max = props.max;
  const d =
    values && max && max > 0
      ? sparklinePath(t, values, {
          width: SPARK_W,
          height: SPARK_H,
          start: end - historyMinutes * 60,
          end,
          max
        })
      : '';
  const range = values ? valueRange(values) : null;
  const summary =
    d && range
      ? trans.__(
          '%1, last %2: %3 to %4, now %5',
          props.label,
          formatDuration(trans, historyMinutes * 60),
          props.format(range.min),
          props.format(range.max),
          props.format(lastValue(values!) ?? range.max)
        )
      : trans.__('%1, not enough samples yet', props.label);
  return (
    <svg
      className={SPARKLINE_CLASS}
      role="img"
      aria-label={summary}
      viewBox={`0 0 ${SPARK_W} ${SPARK_H}`}
      preserveAspectRatio="none"
      data-points={d ? d.split(/[ML]/).length - 1 : 0}
    >
      <title>{summary}</title>
      <line
        className={`${SPARKLINE_CLASS}-base`}
        x1={0}
        y1={SPARK_H - 0.5}
        x2={SPARK_W}
        y2={SPARK_H - 0.5}
      />
      {d ? (
        <path
          className={`${SPARKLINE_CLASS}-line`}
          d={d}
          vectorEffect="non-scaling-stroke"
        />
      ) : null}
    </svg>
  );
}

/**
 * A countdown: mm:ss, coloured by how little is left; role="timer" (not
 * announced every second) with its name and time as accessible name.
 */
export function Countdown(props: {
  seconds: number;
  /** What ends, e.g. "Idle culling of train.ipynb". */
  label: string;
  /** Hover text: the setting behind it. */
  title: string;
  trans: TranslationBundle;
}): JSX.Element {
  const text = formatCountdown(props.trans, props.seconds);
  return (
    <span
      className={COUNTDOWN_CLASS}
      data-level={countdownLevel(props.seconds)}
      data-seconds={Math.round(props.seconds)}
      role="timer"
      aria-label={props.trans.__('%1: %2', props.label, text)}
      title={props.title}
    >
      {text}
    </span>
  );
}

/** A button of the panel (a real <button>: focusable, Enter and Space work). */
export function GuardButton(
  props: React.ButtonHTMLAttributes<HTMLButtonElement> & DataAttributes
): JSX.Element {
  const { className, ...rest } = props;
  return (
    <button
      type="button"
      className={`jp-Button jp-mod-minimal jp-mod-small ${BUTTON_CLASS}${className ? ` ${className}` : ''}`}
      {...rest}
    />
  );
}

/** A command to paste, with a copy button and room for more buttons. */
export function CopyCommand(props: {
  text: string;
  /** What the command is, for the button's accessible name. */
  what: string;
  /** Whether it was just copied: the button reads "Copied". */
  copied: boolean;
  onCopy: (text: string) => void;
  trans: TranslationBundle;
  children?: React.ReactNode;
}): JSX.Element {
  const { trans, text } = props;
  return (
    <div className={COMMAND_CLASS}>
      <code className={`${COMMAND_CLASS}-text`}>{text}</code>
      <GuardButton
        data-action="copy"
        data-copied={props.copied ? 'true' : undefined}
        aria-label={trans.__('Copy %1: %2', props.what, text)}
        title={trans.__('Copy %1', text)}
        onClick={() => props.onCopy(text)}
      >
        {props.copied ? trans.__('Copied') : trans.__('Copy')}
      </GuardButton>
      {props.children}
    </div>
  );
}

/** A failure: its headline and message (an alert where `alert` is set). */
export function Failure(props: {
  failure: IFetchFailure;
  message: string;
  trans: TranslationBundle;
  alert?: boolean;
  children?: React.ReactNode;
}): JSX.Element {
  return (
    <div
      className={ERROR_CLASS}
      role={props.alert ? 'alert' : undefined}
      data-failure={props.failure.kind}
    >
      <div className={`${ERROR_CLASS}-title`}>
        {fetchFailureText(props.trans, props.failure)}
      </div>
      <Detail>{props.message}</Detail>
      {props.children}
    </div>
  );
}

/**
 * What an endpoint's section shows before it has data: "Loading…" or the
 * failure; null once the data is there (and for an absent endpoint, whose
 * section the panel leaves out).
 */
export function Pending<T>(props: {
  state: EndpointState<T> | undefined;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { state, trans } = props;
  if (!state || state.status === 'loading') {
    return <Detail role="status">{trans.__('Loading…')}</Detail>;
  }
  if (state.status === 'error') {
    return (
      <Failure failure={state.failure} message={state.message} trans={trans} />
    );
  }
  return null;
}

/** The root of one section's body, keyed for tests and styles. */
export function SectionBody(props: {
  section: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className={SECTION_BODY_CLASS} data-section={props.section}>
      {props.children}
    </div>
  );
}

/** What the user did in the panel, shown back: copied, deleting, dismissed. */
export interface IPanelUiState {
  /** The text most recently copied: its button reads "Copied". */
  copied: string | null;
  /** "key/id" of the snapshots being deleted. */
  deleting: ReadonlySet<string>;
  /** Keys of the post-mortems the user dismissed. */
  dismissed: ReadonlySet<string>;
}

/** What the panel's buttons do. */
export interface IPanelActions {
  /** Copy a command to the clipboard. */
  copy(text: string): void;
  /** Ask, then delete a snapshot. */
  deleteSnapshot(key: string, id: string, notebook: string): void;
  /** Hide a post-mortem banner. */
  dismiss(key: string): void;
}

/** What the panel's interactive views get besides their data. */
export interface IPanelViewProps {
  options: IViewOptions;
  ui: IPanelUiState;
  actions: IPanelActions;
}
