// The page's UI kit: preact + hooks (web/vendor, see scripts/vendor-web.sh), with htm's tagged
// templates bound to preact's h, so components are written as html`<div>...</div>` with no build step.
import { Fragment, createContext, h, render } from './vendor/preact/preact.js';
import htm from './vendor/htm/htm.js';

export * from './vendor/preact/hooks.js';
export { Fragment, createContext, h, render };
export const html = htm.bind(h);
