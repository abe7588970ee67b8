// The admin console's views, shown only to users whose role is "admin" (GET /api/v1/me).
// Contract with the page shell (web/app.js): each entry is
//   { id: '<url-safe id>', label: '<i18n key in ./strings.js>', Component }
// rendered at `#/admin/<id>` as html`<${Component} api=${api} me=${me} lang=${lang} />`, where
// `api` is web/api.js's client (api.request(method, path, body) → JSON, throws ApiError) and `me`
// is GET /api/v1/me. Strings live in ./strings.js ({ja: {...}, en: {...}}), merged into i18n's t().
export const adminViews = [];
