// placement.js: an item's ⋯ menu opens below its anchor, or above it near the viewport's bottom.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MIN_MENU_HEIGHT, menuPlacement } from '../placement.js';

const at = (anchorTop, extra = {}) => menuPlacement({ anchorTop, anchorBottom: anchorTop + 80, menuHeight: 330, viewportHeight: 700, ...extra });

test('menuPlacement: below when it fits there', () => {
  assert.deepEqual(at(100), { up: false, maxHeight: null });
  assert.deepEqual(at(276), { up: false, maxHeight: null }); // 700 - 356 - 6 - 8 = 330: just fits
});

test('menuPlacement: above near the bottom of the viewport (390 x 700: the last items)', () => {
  assert.deepEqual(at(400), { up: true, maxHeight: null }); // below: 700 - 480 - 14 = 206
  assert.deepEqual(at(600), { up: true, maxHeight: null });
  // a sticky header covers the top: above must fit below it
  assert.deepEqual(at(420, { topLimit: 60 }), { up: true, maxHeight: null });
  assert.deepEqual(at(380, { topLimit: 60 }), { up: true, maxHeight: 380 - 60 - 14 });
});

test('menuPlacement: fitting on neither side, the roomier side with a height it scrolls in', () => {
  assert.deepEqual(at(277), { up: false, maxHeight: 700 - 357 - 14 });
  assert.deepEqual(at(300, { menuHeight: 900 }), { up: false, maxHeight: 700 - 380 - 14 });
  assert.deepEqual(at(420, { menuHeight: 900 }), { up: true, maxHeight: 420 - 14 });
  assert.deepEqual(at(50, { menuHeight: 900, viewportHeight: 200 }), { up: false, maxHeight: MIN_MENU_HEIGHT });
});
