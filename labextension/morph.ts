/**
 * Bring a live DOM tree in line with a freshly built one, changing only what
 * differs. The panel re-renders on every poll; patching instead of replacing
 * keeps the keyboard focus on its button, an opened <details> open and the
 * scroll position, and does not make screen readers read unchanged nodes
 * again.
 *
 * Children are matched by position, and by `data-key` where the new child has
 * one (a different key replaces the node). The `open` attribute of <details>
 * is the user's to change, so it is only set when the node is created.
 * Event listeners are not copied: views use event delegation with data-*
 * attributes instead.
 */

/** Patch `target` (live) to look like `source` (detached); returns the live node. */
export function morph(target: Node, source: Node): Node {
  if (!sameKind(target, source)) {
    target.parentNode?.replaceChild(source, target);
    return source;
  }
  if (
    target.nodeType === Node.TEXT_NODE ||
    target.nodeType === Node.COMMENT_NODE
  ) {
    if (target.nodeValue !== source.nodeValue) {
      target.nodeValue = source.nodeValue;
    }
    return target;
  }
  if (target.nodeType === Node.ELEMENT_NODE) {
    morphAttributes(target as Element, source as Element);
    morphChildren(target as Element, source as Element);
  }
  return target;
}

/** Replace the children of `target` by those of `source`, patching in place. */
export function morphChildren(target: Element, source: Element): void {
  const next = Array.from(source.childNodes);
  let current = target.firstChild;
  for (const child of next) {
    if (current === null) {
      target.appendChild(child);
      continue;
    }
    const live = morph(current, child);
    current = live.nextSibling;
  }
  while (current !== null) {
    const extra = current;
    current = current.nextSibling;
    target.removeChild(extra);
  }
}

function sameKind(a: Node, b: Node): boolean {
  if (a.nodeType !== b.nodeType || a.nodeName !== b.nodeName) {
    return false;
  }
  if (a.nodeType === Node.ELEMENT_NODE) {
    const ka = (a as Element).getAttribute('data-key');
    const kb = (b as Element).getAttribute('data-key');
    return (
      ka === kb && (a as Element).namespaceURI === (b as Element).namespaceURI
    );
  }
  return true;
}

function morphAttributes(target: Element, source: Element): void {
  const userOwned = target.nodeName === 'DETAILS' ? 'open' : null;
  for (const attr of Array.from(target.attributes)) {
    if (attr.name !== userOwned && !source.hasAttribute(attr.name)) {
      target.removeAttribute(attr.name);
    }
  }
  for (const attr of Array.from(source.attributes)) {
    if (
      attr.name !== userOwned &&
      target.getAttribute(attr.name) !== attr.value
    ) {
      target.setAttribute(attr.name, attr.value);
    }
  }
}
