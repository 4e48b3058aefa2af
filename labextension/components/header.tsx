/**
 * The top of the panel, above its sections: "Loading…", the failure that
 * replaces every figure, or the environment and a banner per kernel that
 * died.
 */
import * as React from 'react';

import {
  deathHeadline,
  environmentLabel,
  notebookName
} from '../format/labels';
import { formatWhen } from '../format/time';
import { formatPercent } from '../format/units';
import { dataOf, postmortemKey, postmortemsToShow } from '../model/selectors';
import type { ResourceState } from '../model/state';
import type { IPostmortem } from '../model/types';
import {
  CSS,
  Detail,
  Failure,
  GuardButton,
  IPanelActions,
  IPanelUiState,
  IPanelViewProps,
  IViewOptions
} from './common';
import { RestoreCommand, variableCount } from './snapshots';

/** A banner for a kernel that died (role="alert"). */
export const POSTMORTEM_CLASS = `${CSS}-postmortem`;
/** The environment line ("Colab", "JupyterHub (ada)"). */
export const ENVIRONMENT_CLASS = `${CSS}-environment`;
/** "Loading…" before the first answer. */
export const LOADING_CLASS = `${CSS}-loading`;

/** A banner for a kernel that died: why, and the snapshot to restore. */
function PostmortemBanner(props: {
  pm: IPostmortem;
  options: IViewOptions;
  ui: IPanelUiState;
  actions: IPanelActions;
}): JSX.Element {
  const { pm, options, ui, actions } = props;
  const { trans, now } = options;
  const key = postmortemKey(pm);
  const name = notebookName(trans, pm.notebook);
  const facts = [
    formatWhen(trans, pm.died_at, now),
    pm.previous_session ? trans.__('previous server session') : null,
    pm.cause === 'oom-killer'
      ? pm.confidence === 'certain'
        ? trans.__("the container's OOM-kill counter rose")
        : trans.__('it was near the limit when it was killed')
      : null,
    typeof pm.peak_percent === 'number'
      ? trans.__('peak %1 of the limit', formatPercent(trans, pm.peak_percent))
      : null
  ].filter(Boolean);
  const snapshot = pm.snapshot;
  return (
    <div
      className={POSTMORTEM_CLASS}
      role="alert"
      data-cause={pm.cause}
      data-confidence={pm.confidence}
    >
      <div className={`${POSTMORTEM_CLASS}-title`}>
        {trans.__(
          'Kernel of %1 died: %2',
          name,
          deathHeadline(trans, pm, options.units)
        )}
      </div>
      <Detail>{facts.join(' · ')}</Detail>
      {snapshot ? (
        <>
          <Detail>
            {trans.__(
              'Snapshot of %1 (%2). In the new kernel, run:',
              formatWhen(trans, snapshot.created_ts ?? snapshot.created, now),
              variableCount(trans, snapshot.variables)
            )}
          </Detail>
          <RestoreCommand
            command={snapshot.restore}
            ui={ui}
            actions={actions}
            trans={trans}
          />
        </>
      ) : (
        <Detail>{trans.__('No snapshot was saved before it died.')}</Detail>
      )}
      <div className={`${POSTMORTEM_CLASS}-actions`}>
        <GuardButton
          data-action="dismiss"
          aria-label={trans.__('Dismiss the post-mortem of %1', name)}
          onClick={() => actions.dismiss(key)}
        >
          {trans.__('Dismiss')}
        </GuardButton>
      </div>
    </div>
  );
}

/** The top of the panel for a state. */
export function PanelHeader(
  props: IPanelViewProps & { state: ResourceState }
): JSX.Element {
  const { state, options } = props;
  const { trans } = options;
  switch (state.status) {
    case 'loading':
      return (
        <div className={LOADING_CLASS} role="status">
          {trans.__('Loading…')}
        </div>
      );
    case 'error':
      return (
        <Failure
          failure={state.failure}
          message={state.message}
          trans={trans}
          alert
        >
          <Detail>{trans.__('Retrying…')}</Detail>
        </Failure>
      );
    case 'ok': {
      const env = state.data.environment;
      const banners = postmortemsToShow(
        dataOf(state.postmortems),
        props.ui.dismissed
      );
      return (
        <>
          {banners.map(pm => (
            <PostmortemBanner
              key={postmortemKey(pm)}
              pm={pm}
              options={options}
              ui={props.ui}
              actions={props.actions}
            />
          ))}
          <div className={ENVIRONMENT_CLASS} data-environment={env?.kind}>
            {environmentLabel(trans, env?.kind, env?.user)}
          </div>
        </>
      );
    }
  }
}
