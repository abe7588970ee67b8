// The page's address: `#token=...` signs in (app.js strips it), `#/` is the feed and
// `#/admin/<id>` an admin view. Pure: takes the hash string.

/** '#token=abc&/admin/usage' → {token: 'abc', route: {name: 'admin', id: 'usage'}, rest: '/admin/usage'} */
export function parseHash(hash) {
  const parts = String(hash || '').replace(/^#/, '').split('&').filter(Boolean);
  let token = null;
  const rest = [];
  for (const p of parts) {
    if (p.startsWith('token=')) {
      let v = p.slice('token='.length);
      try {
        v = decodeURIComponent(v); // not URLSearchParams: it would turn '+' into ' '
      } catch {
        /* keep raw */
      }
      token = v.trim() || null;
    } else rest.push(p);
  }
  const path = rest.find((p) => p.startsWith('/')) || '/';
  return { token, route: routeOf(path), rest: rest.join('&') };
}

export function routeOf(path) {
  const m = /^\/admin(?:\/([A-Za-z0-9_-]+))?\/?$/.exec(path);
  if (m) return { name: 'admin', id: m[1] || null };
  return { name: 'feed', id: null };
}

export function hrefOf(route) {
  return route.name === 'admin' ? `#/admin/${route.id || ''}` : '#/';
}
