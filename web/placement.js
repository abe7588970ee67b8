// Where a popover opened from an anchor goes (the items' ⋯ menus): below it unless it does not fit
// there and does above it, so a menu near the bottom of the viewport opens upward instead of being
// cut off. Pure: takes measured numbers (px, viewport coordinates), no DOM.

export const MIN_MENU_HEIGHT = 120;

/**
 * {anchorTop, anchorBottom}: the anchor's box; menuHeight: the popover's natural height;
 * viewportHeight; topLimit: what covers the viewport's top (a sticky header's bottom, 0 if none);
 * gap: between anchor and popover; margin: kept free at the viewport's edges.
 * → {up, maxHeight}: open above (`up`); `maxHeight` (px) when it fits on neither side (it then
 * scrolls, on the side with more room), else null.
 */
export function menuPlacement({ anchorTop, anchorBottom, menuHeight, viewportHeight, topLimit = 0, gap = 6, margin = 8 }) {
  const below = viewportHeight - anchorBottom - gap - margin;
  const above = anchorTop - Math.max(0, topLimit) - gap - margin;
  if (menuHeight <= below) return { up: false, maxHeight: null };
  if (menuHeight <= above) return { up: true, maxHeight: null };
  const up = above > below;
  return { up, maxHeight: Math.max(MIN_MENU_HEIGHT, Math.floor(up ? above : below)) };
}
