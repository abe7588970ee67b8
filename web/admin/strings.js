// UI strings of the admin console, per language; web/i18n.js merges them into t().
export const ADMIN_STRINGS = { ja: {}, en: {} };
