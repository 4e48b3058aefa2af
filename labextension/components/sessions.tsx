/**
 * The Sessions section: the server's countdowns, each kernel with its
 * countdown, the cost, the server's advice and the culling policy.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import {
  cullReasonText,
  executionStateText,
  notebookName,
  policyLabel,
  policyValue
} from '../format/labels';
import { formatDuration } from '../format/time';
import {
  formatBytes,
  formatMoney,
  formatPercent,
  notAvailable
} from '../format/units';
import {
  IKernelView,
  IServerCountdown,
  selectAdvice,
  selectCost,
  selectKernels,
  selectServerCountdowns,
  selectTopCell,
  Spared
} from '../model/selectors';
import type { EndpointState } from '../model/state';
import type { IPolicyItem, ISessions, ISessionWarning } from '../model/types';
import {
  Breakable,
  Countdown,
  CSS,
  Detail,
  IViewOptions,
  Pending,
  Row,
  ROW_LABEL_CLASS,
  ROW_VALUE_CLASS,
  SectionBody
} from './common';

/** One kernel's item. */
export const KERNEL_CLASS = `${CSS}-kernel`;

/** "Idle kernels culled after 10 min (MappingKernelManager.cull_idle_timeout)". */
function policyText(
  trans: TranslationBundle,
  policy: { name: string; item: IPolicyItem } | null
): string {
  return policy
    ? trans.__(
        '%1 %2 (%3)',
        policyLabel(trans, policy.name),
        policyValue(trans, policy.item),
        policy.item.source
      )
    : '';
}

/** Why a kernel has no countdown, in words. */
function sparedText(trans: TranslationBundle, spared: Spared): string {
  switch (spared.kind) {
    case 'not-culled':
      return spared.source
        ? trans.__('Idle kernels are not culled (%1 is not set)', spared.source)
        : trans.__('Idle kernels are not culled');
    case 'connected':
      return trans.__(
        'Not culled while a tab is connected (%1 is off)',
        spared.source
      );
    case 'busy':
      return trans.__('Not culled while busy (%1 is off)', spared.source);
    default:
      return trans.__('No countdown');
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One kernel: notebook, state, memory, GPU memory and its countdown. */
function KernelItem(props: {
  view: IKernelView;
  options: IViewOptions;
}): JSX.Element {
  const { kernel, seconds, spared, oomFirst } = props.view;
  const { trans, units } = props.options;
  const name = notebookName(trans, kernel.path);
  const state = kernel.execution_state ?? 'unknown';
  const usage = [trans.__('RAM %1', formatBytes(trans, kernel.rss, units))];
  if (kernel.gpu_memory !== null && kernel.gpu_memory !== undefined) {
    usage.push(
      trans.__('GPU %1', formatBytes(trans, kernel.gpu_memory, units))
    );
  }
  const reason = capitalize(cullReasonText(trans, kernel.cull_reason));
  const top = selectTopCell(kernel.cells);
  return (
    <li
      className={KERNEL_CLASS}
      data-kernel-id={kernel.id}
      aria-label={trans.__('Kernel of %1', name)}
    >
      <div className={`${KERNEL_CLASS}-head`}>
        <span
          className={`${KERNEL_CLASS}-name`}
          title={kernel.path ?? kernel.id}
        >
          {name}
        </span>
        <span className={`${KERNEL_CLASS}-state`} data-state={state}>
          {executionStateText(trans, kernel.execution_state)}
        </span>
      </div>
      <Detail
        title={trans.__(
          '%1 · pid %2',
          kernel.name,
          kernel.pid ?? notAvailable(trans)
        )}
      >
        {usage.join(' · ')}
      </Detail>
      {oomFirst ? (
        <Detail
          data-testid="oom-first"
          title={trans.__(
            'It has the highest oom_score of the kernels here (%1)',
            kernel.oom_score ?? ''
          )}
        >
          {trans.__(
            'If memory runs out, the OOM killer ends this kernel first: its variables are snapshotted near the limit'
          )}
        </Detail>
      ) : null}
      {top ? (
        <Detail
          data-testid="top-cell"
          title={trans.__(
            'The cell that grew this kernel’s memory most among its last %1 (%2 in the notebook)',
            kernel.cells?.length ?? 0,
            '%guard cells'
          )}
        >
          {top.running
            ? trans.__(
                'Grew most: [%1] %2 (+%3 so far, running)',
                top.number ?? '?',
                top.first_line,
                formatBytes(trans, top.rss_growth, units)
              )
            : trans.__(
                'Grew most: [%1] %2 (+%3)',
                top.number ?? '?',
                top.first_line,
                formatBytes(trans, top.rss_growth, units)
              )}
        </Detail>
      ) : null}
      {seconds === null ? (
        <div className={`${KERNEL_CLASS}-countdown`} data-countdown="none">
          <Detail>
            <Breakable text={sparedText(trans, spared!)} />
          </Detail>
        </div>
      ) : (
        <div
          className={`${KERNEL_CLASS}-countdown`}
          data-countdown={kernel.cull_reason ?? 'unknown'}
        >
          <span className={ROW_LABEL_CLASS}>{trans.__('%1 in', reason)}</span>{' '}
          <Countdown
            seconds={seconds}
            label={trans.__('%1 of %2', reason, name)}
            title={policyText(trans, props.view.policy) || reason}
            trans={trans}
          />
        </div>
      )}
    </li>
  );
}

/** The label of one of the server's countdowns. */
function serverCountdownLabel(
  trans: TranslationBundle,
  countdown: IServerCountdown
): string {
  switch (countdown.key) {
    case 'shutdown':
      return trans.__('Server shuts down in');
    case 'idle':
      return countdown.hub
        ? trans.__('The hub stops this server in')
        : trans.__('Idle disconnect in');
    case 'lifetime':
      return trans.__('Runtime ends in');
  }
}

/** The figures a diagnosis rests on (the GPU-idle cause's evidence), folded. */
function Evidence(props: {
  warning: ISessionWarning;
  trans: TranslationBundle;
}): JSX.Element | null {
  const evidence = props.warning.evidence;
  if (!evidence || typeof evidence !== 'object') {
    return null;
  }
  const rows = Object.entries(evidence as Record<string, unknown>).filter(
    ([, value]) => value !== null && typeof value !== 'object'
  );
  if (!rows.length) {
    return null;
  }
  return (
    <details className={`${CSS}-evidence`}>
      <summary>{props.trans.__('Evidence')}</summary>
      <ul>
        {rows.map(([name, value]) => (
          <li key={name} data-evidence={name}>
            <Breakable text={`${name.replace(/_/g, ' ')}: ${String(value)}`} />
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The Sessions section; "Loading…" or the failure before there is data. */
export function SessionsBody(props: {
  state: EndpointState<ISessions> | undefined;
  options: IViewOptions;
}): JSX.Element {
  const { state, options } = props;
  const { trans, now } = options;
  if (state?.status !== 'ok') {
    return (
      <SectionBody section="sessions">
        <Pending state={state} trans={trans} />
      </SectionBody>
    );
  }
  const sessions = state.data;
  const kernels = selectKernels(sessions, state.receivedAt, now);
  const cost = selectCost(sessions);
  const advice = selectAdvice(sessions);
  const hours = sessions.accelerator_hours;
  const policy = Object.entries(sessions.policy ?? {});
  return (
    <SectionBody section="sessions">
      {selectServerCountdowns(sessions, state.receivedAt, now).map(c => {
        const label = serverCountdownLabel(trans, c);
        return (
          <Row
            key={c.key}
            label={label}
            rowProps={{ 'data-server-countdown': c.key }}
          >
            <Countdown
              seconds={c.seconds}
              label={label}
              title={policyText(trans, c.policy) || label}
              trans={trans}
            />
          </Row>
        );
      })}
      {sessions.server?.hub ? (
        <Detail
          data-testid="hub-clock"
          data-answered={String(sessions.server.hub.answered)}
          title={
            sessions.server.hub.answered
              ? trans.__("On the hub's clock: what its idle culler counts")
              : trans.__(
                  'The hub did not answer (%1): the countdown is this server’s own',
                  sessions.server.hub.error ?? ''
                )
          }
        >
          {sessions.server.hub.message}
        </Detail>
      ) : null}
      {kernels.length ? (
        <ul className={`${CSS}-kernels`} aria-label={trans.__('Kernels')}>
          {kernels.map(view => (
            <KernelItem key={view.kernel.id} view={view} options={options} />
          ))}
        </ul>
      ) : (
        <Detail>{trans.__('No kernel is running.')}</Detail>
      )}
      {cost ? (
        <div className={`${CSS}-cost`} data-testid="cost">
          <Row
            label={trans.__('Cost so far')}
            valueProps={{
              title: trans.__(
                '%1/h for "%2" over %3',
                formatMoney(trans, cost.cost.rate, cost.cost.unit),
                cost.cost.pattern,
                formatDuration(trans, cost.cost.hours * 3600)
              )
            }}
          >
            {formatMoney(trans, cost.cost.accrued, cost.cost.unit)}
          </Row>
          <Row
            label={trans.__('At low GPU utilisation')}
            valueProps={{
              'data-level':
                cost.cost.accrued_low_utilization > 0 ? 'warn' : 'ok'
            }}
          >
            {formatMoney(
              trans,
              cost.cost.accrued_low_utilization,
              cost.cost.unit
            )}
            {cost.lowShare === null
              ? ''
              : ` (${formatPercent(trans, cost.lowShare)})`}
          </Row>
        </div>
      ) : null}
      {hours ? (
        <Row
          label={trans.__('Accelerator hours, last %1 days', hours.days)}
          rowProps={{ 'data-testid': 'accelerator-hours' }}
          valueProps={{ 'data-level': hours.warning ? 'warn' : 'ok' }}
        >
          {hours.budget
            ? trans.__(
                '%1 of %2 h',
                hours.hours.toFixed(1),
                String(hours.budget)
              )
            : trans.__('%1 h', hours.hours.toFixed(1))}
        </Row>
      ) : null}
      {advice.length ? (
        <ul className={`${CSS}-advice`} aria-label={trans.__('Advice')}>
          {advice.map(w => (
            <li
              key={w.kind}
              data-kind={w.kind}
              data-cause={w.cause ?? undefined}
            >
              {w.message}
              <Evidence warning={w} trans={trans} />
            </li>
          ))}
        </ul>
      ) : null}
      {policy.length ? (
        <details className={`${CSS}-policy`}>
          <summary>{trans.__('Policy')}</summary>
          <ul className={`${CSS}-policy-list`} aria-label={trans.__('Policy')}>
            {policy.map(([name, item]) => (
              <li
                key={name}
                title={trans.__('Set by %1', item.source)}
                data-policy={name}
                data-source={item.source}
              >
                <span className={ROW_LABEL_CLASS}>
                  {policyLabel(trans, name)}
                </span>{' '}
                <span className={ROW_VALUE_CLASS}>
                  {policyValue(trans, item)}
                </span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </SectionBody>
  );
}
