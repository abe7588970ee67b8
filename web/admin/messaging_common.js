// Shared data of the messaging admin views: the template and segment pickers' lists.
import { orgPath } from './common.js';

/** The org's templates (for pickers). */
export async function loadTemplates(api, me) {
  const { templates } = await api.request('GET', orgPath(me, '/templates'));
  return templates || [];
}

/** The org's segments (for pickers). */
export async function loadSegments(api, me) {
  const { segments } = await api.request('GET', orgPath(me, '/segments'));
  return segments || [];
}
