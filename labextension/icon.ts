/**
 * The colab-guard icon: a shield with a check mark.
 */
import { LabIcon } from '@jupyterlab/ui-components';

const shieldSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" fill-rule="evenodd" d="M12 1.5 3.5 4.8v6.1c0 5.2 3.6 10 8.5 11.6 4.9-1.6 8.5-6.4 8.5-11.6V4.8L12 1.5zm-1.3 14.9-4-4 1.4-1.4 2.6 2.6 5.6-5.6 1.4 1.4-7 7z"/>
</svg>`;

/** The sidebar tab and palette icon. */
export const shieldIcon = new LabIcon({
  name: 'colab-guard:shield',
  svgstr: shieldSvg
});
