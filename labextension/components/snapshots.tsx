/**
 * The Snapshots section: per notebook, newest first, each with its restore
 * command to copy and a delete button.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { notebookName } from '../format/labels';
import { formatWhen } from '../format/time';
import { formatBytes } from '../format/units';
import { snapshotGroups } from '../model/selectors';
import type { EndpointState } from '../model/state';
import type { ISnapshot, ISnapshotList } from '../model/types';
import {
  Breakable,
  CopyCommand,
  CSS,
  Detail,
  GuardButton,
  IPanelActions,
  IPanelUiState,
  IPanelViewProps,
  IViewOptions,
  Pending,
  ROW_CLASS,
  ROW_VALUE_CLASS,
  SectionBody
} from './common';

/** One snapshot's item. */
export const SNAPSHOT_CLASS = `${CSS}-snapshot`;

/** A snapshot's restore command to copy, with room for more buttons. */
export function RestoreCommand(props: {
  command: string;
  ui: IPanelUiState;
  actions: IPanelActions;
  trans: TranslationBundle;
  children?: React.ReactNode;
}): JSX.Element {
  const { command, trans } = props;
  return (
    <CopyCommand
      text={command}
      what={trans.__('restore command')}
      copied={props.ui.copied === command}
      onCopy={props.actions.copy}
      trans={trans}
    >
      {props.children}
    </CopyCommand>
  );
}

/** "x (ndarray), df (DataFrame) and 3 more". */
export function variablesText(
  trans: TranslationBundle,
  variables: { [name: string]: string },
  most = 6
): string {
  const entries = Object.entries(variables ?? {});
  if (!entries.length) {
    return trans.__('no variables');
  }
  const shown = entries
    .slice(0, most)
    .map(([name, type]) => `${name} (${type})`)
    .join(', ');
  return entries.length > most
    ? trans.__('%1 and %2 more', shown, entries.length - most)
    : shown;
}

/** "2 variables". */
export function variableCount(
  trans: TranslationBundle,
  variables: { [name: string]: string } | undefined
): string {
  const count = Object.keys(variables ?? {}).length;
  return trans._n('%1 variable', '%1 variables', count);
}

/** One snapshot: time, size, variables, restore command; copy and delete. */
function SnapshotItem(props: {
  snapshot: ISnapshot;
  options: IViewOptions;
  ui: IPanelUiState;
  actions: IPanelActions;
}): JSX.Element {
  const { snapshot, options, ui, actions } = props;
  const { trans } = options;
  const id = `${snapshot.key}/${snapshot.id}`;
  const skipped = Object.entries(snapshot.skipped ?? {});
  const deleting = ui.deleting.has(id);
  const notebook = notebookName(trans, snapshot.notebook ?? snapshot.key);
  return (
    <li
      className={SNAPSHOT_CLASS}
      data-snapshot-key={snapshot.key}
      data-snapshot-id={snapshot.id}
    >
      <div className={ROW_CLASS}>
        <span className={`${SNAPSHOT_CLASS}-time`} title={snapshot.created}>
          {formatWhen(
            trans,
            snapshot.created_ts ?? snapshot.created,
            options.now
          )}
        </span>
        <span className={ROW_VALUE_CLASS}>
          {formatBytes(trans, snapshot.size, options.units)}
        </span>
      </div>
      <Detail
        className={`${SNAPSHOT_CLASS}-variables`}
        title={Object.entries(snapshot.variables ?? {})
          .map(([n, t]) => `${n}: ${t}`)
          .join('\n')}
      >
        {trans.__(
          '%1: %2',
          variableCount(trans, snapshot.variables),
          variablesText(trans, snapshot.variables)
        )}
      </Detail>
      {skipped.length ? (
        <Detail className={`${SNAPSHOT_CLASS}-skipped`}>
          {trans.__(
            'Not saved: %1',
            skipped.map(([n, why]) => `${n} (${why})`).join(', ')
          )}
        </Detail>
      ) : null}
      <RestoreCommand
        command={snapshot.restore}
        ui={ui}
        actions={actions}
        trans={trans}
      >
        <GuardButton
          data-action="delete"
          aria-label={trans.__(
            'Delete snapshot %1 of %2',
            snapshot.id,
            notebook
          )}
          disabled={deleting}
          onClick={() =>
            actions.deleteSnapshot(snapshot.key, snapshot.id, notebook)
          }
        >
          {deleting ? trans.__('Deleting…') : trans.__('Delete')}
        </GuardButton>
      </RestoreCommand>
    </li>
  );
}

/** The Snapshots section; "Loading…" or the failure before there is data. */
export function SnapshotsBody(
  props: IPanelViewProps & { state: EndpointState<ISnapshotList> | undefined }
): JSX.Element {
  const { state, options } = props;
  const { trans } = options;
  if (state?.status !== 'ok') {
    return (
      <SectionBody section="snapshots">
        <Pending state={state} trans={trans} />
      </SectionBody>
    );
  }
  const groups = snapshotGroups(state.data.snapshots);
  return (
    <SectionBody section="snapshots">
      {groups.length === 0 ? (
        <Detail data-testid="no-snapshots">
          {trans.__(
            'No snapshot yet. The kernel saves one near the memory limit; %1 saves one now.',
            '%guard snapshot'
          )}
        </Detail>
      ) : null}
      {groups.map(group => {
        const name = notebookName(trans, group.notebook);
        return (
          <div
            key={group.key}
            className={`${CSS}-snapshot-group`}
            data-notebook-key={group.key}
          >
            <h4 className={`${CSS}-subheading`} title={group.notebook}>
              {name}
            </h4>
            <ul
              className={`${CSS}-snapshots`}
              aria-label={trans.__('Snapshots of %1', name)}
            >
              {group.snapshots.map(s => (
                <SnapshotItem
                  key={s.id}
                  snapshot={s}
                  options={options}
                  ui={props.ui}
                  actions={props.actions}
                />
              ))}
            </ul>
          </div>
        );
      })}
      <Detail className={`${CSS}-snapshot-dir`}>
        <Breakable text={trans.__('Saved in %1', state.data.snapshot_dir)} />
      </Detail>
    </SectionBody>
  );
}
