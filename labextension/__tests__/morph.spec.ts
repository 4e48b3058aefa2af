/**
 * @jest-environment jsdom
 */
import { describe, expect, it } from '@jest/globals';

import { morphChildren } from '../morph';

function html(markup: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = markup;
  return div;
}

describe('morphChildren', () => {
  it('updates text and attributes in place, keeping the nodes', () => {
    const live = html('<p class="a" data-x="1">old</p><button>Copy</button>');
    document.body.append(live);
    const button = live.querySelector('button')!;
    button.focus();

    morphChildren(
      live,
      html('<p class="b">new</p><button title="t">Copied</button>')
    );

    expect(live.innerHTML).toBe(
      '<p class="b">new</p><button title="t">Copied</button>'
    );
    expect(live.querySelector('button')).toBe(button);
    expect(document.activeElement).toBe(button);
    live.remove();
  });

  it('adds and removes children', () => {
    const live = html('<i>1</i><i>2</i><i>3</i>');
    morphChildren(live, html('<i>1</i>'));
    expect(live.innerHTML).toBe('<i>1</i>');
    morphChildren(live, html('<i>1</i><b>2</b>'));
    expect(live.innerHTML).toBe('<i>1</i><b>2</b>');
  });

  it('replaces a node whose data-key changed', () => {
    const live = html('<li data-key="a">A</li><li data-key="b">B</li>');
    const b = live.children[1];
    morphChildren(live, html('<li data-key="b">B</li>'));
    expect(live.innerHTML).toBe('<li data-key="b">B</li>');
    expect(live.children[0]).not.toBe(b); // a keyed node is never reused for another key
  });

  it("leaves a <details>' open state to the user", () => {
    const live = html('<details><summary>Policy</summary></details>');
    (live.firstChild as HTMLDetailsElement).open = true;
    morphChildren(live, html('<details><summary>Policy</summary></details>'));
    expect((live.firstChild as HTMLDetailsElement).open).toBe(true);
  });

  it('patches SVG attributes', () => {
    const ns = 'http://www.w3.org/2000/svg';
    const make = (d: string) => {
      const root = document.createElement('div');
      const svg = document.createElementNS(ns, 'svg');
      const path = document.createElementNS(ns, 'path');
      path.setAttribute('d', d);
      svg.append(path);
      root.append(svg);
      return root;
    };
    const live = make('M0,0L1,1');
    const path = live.querySelector('path');
    morphChildren(live, make('M0,0L2,2'));
    expect(live.querySelector('path')).toBe(path);
    expect(path!.getAttribute('d')).toBe('M0,0L2,2');
  });
});
