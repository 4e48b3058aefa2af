/**
 * What jsdom lacks and JupyterLab's widget packages use when they load (as
 * the shim of @jupyterlab/testing provides); nothing in the node environment.
 */
if (typeof window !== 'undefined') {
  if (typeof window.DragEvent === 'undefined') {
    window.DragEvent = class DragEvent extends window.MouseEvent {};
  }
  if (typeof window.requestIdleCallback === 'undefined') {
    window.requestIdleCallback = callback =>
      window.setTimeout(() =>
        callback({ didTimeout: false, timeRemaining: () => 50 })
      );
    window.cancelIdleCallback = handle => window.clearTimeout(handle);
  }
  if (!window.navigator.clipboard) {
    // What the tests copy, readable back with navigator.clipboard.readText().
    let text = '';
    Object.defineProperty(window.navigator, 'clipboard', {
      value: {
        writeText: async value => {
          text = String(value);
        },
        readText: async () => text
      }
    });
  }
  if (typeof window.matchMedia === 'undefined') {
    window.matchMedia = query => ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => undefined,
      removeListener: () => undefined,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      dispatchEvent: () => false
    });
  }
}
