// web/admin/telephony_logic.js: step list editing, the API's error path → the step, summaries and
// the draft/published comparison, request bodies; and the telephony strings in both languages.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ADMIN_STRINGS } from '../admin/strings.js';
import { TELEPHONY_STRINGS } from '../admin/telephony_strings.js';
import { errorMessage } from '../admin/logic.js';
import {
  addStep,
  apiSteps,
  availableQuery,
  compareFlows,
  errorTarget,
  flattenSteps,
  draftKey,
  flowBody,
  isUnsaved,
  flowsOnNumber,
  idFrom,
  listAt,
  moveStep,
  newStep,
  removeStep,
  samePath,
  stepKind,
  stepLabel,
  stepPathName,
  stepSummary,
  switchBody,
  telephonyOf,
  updateStep,
  userPutBody,
  withKeys,
} from '../admin/telephony_logic.js';

const say = (text) => ({ say: text, language: 'ja-JP' });
const hours = (...closed) => ({
  hours: { open: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' }], closed },
});
const ring = { ring: { group: 'sales' }, strategy: 'simultaneous', timeout: 20 };
const vm = { voicemail: { user: 'u1', prompt: '発信音の後にどうぞ', max_length: 120, language: 'ja-JP' } };

test('telephony strings: the same keys in ja and en, merged into ADMIN_STRINGS', () => {
  assert.deepEqual(Object.keys(TELEPHONY_STRINGS.ja).sort(), Object.keys(TELEPHONY_STRINGS.en).sort());
  for (const lang of ['ja', 'en']) {
    for (const [k, v] of Object.entries(TELEPHONY_STRINGS[lang])) {
      assert.equal(ADMIN_STRINGS[lang][k], v, k);
      assert.ok(v.trim(), `${lang} ${k} is empty`);
    }
  }
  assert.equal(ADMIN_STRINGS.ja['admin.usage'], '利用状況'); // the console's own strings still there
});

test('the telephony error codes read in the admin language', () => {
  assert.match(errorMessage({ status: 409, code: 'number_in_use' }, 'ja'), /解約できません/);
  assert.match(errorMessage({ status: 409, code: 'number_has_flow' }, 'en'), /Another call flow/);
  assert.match(errorMessage({ status: 409, code: 'number_released' }, 'ja'), /解約/);
  assert.match(errorMessage({ status: 400, code: 'invalid_flow' }, 'ja'), /着信フロー/);
  assert.equal(errorMessage({ status: 400, code: 'generic' }, 'en'), 'Something went wrong (generic).');
  assert.equal(errorMessage({ status: 418, code: 'nope' }, 'en'), 'Something went wrong (nope).');
});

test('new steps carry the API defaults and an editor key; apiSteps removes the keys', () => {
  assert.deepEqual(Object.keys(newStep('say', 'en')).sort(), ['_k', 'language', 'say']);
  assert.equal(newStep('say', 'en').language, 'en-US');
  assert.equal(newStep('say', 'ja').language, 'ja-JP');
  assert.equal(newStep('ring').timeout, 20);
  assert.equal(newStep('voicemail').voicemail.max_length, 120);
  assert.deepEqual(apiSteps([newStep('hangup')]), [{ hangup: true }]);
  assert.notEqual(newStep('say')._k, newStep('say')._k);
  assert.throws(() => newStep('conference'));
  for (const kind of ['say', 'hours', 'ring', 'queue', 'voicemail', 'hangup']) assert.equal(stepKind(newStep(kind)), kind);
  assert.equal(stepKind({}), null);
});

test('withKeys keys nested closed steps; apiSteps strips them and turns typed numbers into numbers', () => {
  const keyed = withKeys([say('a'), hours(say('closed'), { hangup: true }), ring]);
  assert.ok(keyed[1].hours.closed.every((s) => typeof s._k === 'string'));
  const edited = updateStep(keyed, [2], (s) => ({ ...s, timeout: '30' }));
  const out = apiSteps(edited);
  assert.deepEqual(out, [say('a'), hours(say('closed'), { hangup: true }), { ...ring, timeout: 30 }]);
  // a value that is not a whole number is sent as typed, so the API names the field
  assert.equal(apiSteps(updateStep(keyed, [2], (s) => ({ ...s, timeout: 'abc' })))[2].timeout, 'abc');
  // an empty voicemail prompt is left out
  assert.deepEqual(apiSteps([{ voicemail: { user: 'u1', prompt: '', max_length: '60', language: 'ja-JP' } }]), [
    { voicemail: { user: 'u1', max_length: 60, language: 'ja-JP' } },
  ]);
});

test('add, move and remove steps at the top and inside a closed branch', () => {
  let steps = [say('a'), hours(say('c1')), ring];
  steps = addStep(steps, [], vm);
  assert.deepEqual(steps.map(stepKind), ['say', 'hours', 'ring', 'voicemail']);
  steps = addStep(steps, [1], { hangup: true });
  assert.deepEqual(listAt(steps, [1]).map(stepKind), ['say', 'hangup']);

  let moved = moveStep(steps, [3], -1);
  assert.deepEqual(moved.path, [2]);
  assert.deepEqual(moved.steps.map(stepKind), ['say', 'hours', 'voicemail', 'ring']);
  moved = moveStep(moved.steps, [1, 1], -1);
  assert.deepEqual(moved.path, [1, 0]);
  assert.deepEqual(listAt(moved.steps, [1]).map(stepKind), ['hangup', 'say']);
  // at the ends nothing moves
  assert.deepEqual(moveStep(steps, [0], -1), { steps, path: [0] });
  assert.deepEqual(moveStep(steps, [3], 1), { steps, path: [3] });
  assert.deepEqual(moveStep(steps, [1, 1], 1).path, [1, 1]);

  const removed = removeStep(steps, [1, 0]);
  assert.deepEqual(listAt(removed, [1]).map(stepKind), ['hangup']);
  assert.deepEqual(removeStep(removed, [0]).map(stepKind), ['hours', 'ring', 'voicemail']);
  // edits never change the list they were given
  assert.deepEqual(listAt(steps, [1]).map(stepKind), ['say', 'hangup']);
  assert.equal(listAt(steps, [0]), undefined); // a say step has no closed list
});

test('step paths: the API name, the label people read, equality', () => {
  assert.equal(stepPathName([2]), 'steps[2]');
  assert.equal(stepPathName([0, 1]), 'steps[0].hours.closed[1]');
  assert.equal(stepLabel([2]), '3');
  assert.equal(stepLabel([0, 1]), '1 › 2');
  assert.ok(samePath([0, 1], [0, 1]));
  assert.ok(!samePath([0], [0, 1]));
  assert.ok(!samePath(null, [0]));
});

test('errorTarget maps the API detail path to the step and the field', () => {
  assert.deepEqual(errorTarget("steps[2].ring.group: unknown group 'sales'"), {
    step: [2], field: 'ring.group', message: "unknown group 'sales'",
  });
  assert.deepEqual(errorTarget('steps[0].hours.closed[1].voicemail.user: must be an id').step, [0, 1]);
  assert.equal(errorTarget('steps[0].hours.closed[1].voicemail.user: must be an id').field, 'voicemail.user');
  assert.deepEqual(errorTarget("steps[0].hours.open[1].to: must be after 'from' (10:00); 'to' is exclusive"), {
    step: [0], field: 'hours.open[1].to', message: "must be after 'from' (10:00); 'to' is exclusive",
  });
  assert.deepEqual(errorTarget('steps[3]: empty or malformed step; a step is one of say, hours'), {
    step: [3], field: '', message: 'empty or malformed step; a step is one of say, hours',
  });
  assert.deepEqual(errorTarget("number: +815000000000 is not one of the org's numbers").step, null);
  assert.equal(errorTarget("number: +815000000000 is not one of the org's numbers").field, 'number');
  assert.equal(errorTarget('steps: needs at least one step').field, 'steps');
  assert.equal(errorTarget('name: must be a non-empty string').field, 'name');
  assert.equal(errorTarget('a published flow answers on +81...'), null);
  assert.equal(errorTarget(''), null);
  assert.equal(errorTarget(undefined), null);
});

test('summaries name users and groups and read in each language', () => {
  const names = { users: { u1: '佐藤 花子' }, groups: { sales: '営業' } };
  assert.equal(stepSummary(say('お電話ありがとうございます'), 'ja'), '読み上げ（ja-JP）:「お電話ありがとうございます」');
  assert.equal(stepSummary(ring, 'ja', names), 'グループ「営業」 を呼び出し（全員同時、20秒）');
  assert.equal(stepSummary(ring, 'en', names), 'Ring group “営業” (All at once, 20 s)');
  assert.equal(stepSummary({ ring: { users: ['u1', 'u9'] }, strategy: 'sequential', timeout: 15 }, 'en', names),
    'Ring 佐藤 花子、u9 (One after another, 15 s)');
  assert.equal(stepSummary(hours(say('x')), 'ja'), '営業時間: 月・火・水・木・金 09:00–18:00（時間外: 1 ステップ）');
  assert.match(stepSummary(vm, 'ja', names), /^留守番電話 → 佐藤 花子（最大120秒）発信音の後にどうぞ$/);
  assert.equal(stepSummary({ hangup: true }, 'en'), 'Hang up');
  assert.equal(stepSummary({ conference: 1 }, 'en'), 'Unknown step');
  assert.deepEqual(flattenSteps([say('a'), hours(say('c'), { hangup: true })], 'en').map((r) => [r.key, r.depth]), [
    ['1', 0], ['2', 0], ['2 › 1', 1], ['2 › 2', 1],
  ]);
});

test('compareFlows marks changed, added and removed places; none when equal', () => {
  const published = { name: '代表', description: '', number: '+815011110001', steps: [say('a'), hours(say('c')), ring] };
  const same = compareFlows(published, published, 'ja');
  assert.ok(same.every((r) => r.change === 'same'));
  assert.deepEqual(same.map((r) => r.key), ['name', 'description', 'number', 'step-1', 'step-2', 'step-2 › 1', 'step-3']);

  const draft = { ...published, name: '代表番号', steps: [say('b'), hours(), ring, vm] };
  const rows = Object.fromEntries(compareFlows(draft, published, 'en').map((r) => [r.key, r]));
  assert.equal(rows.name.change, 'changed');
  assert.equal(rows.number.change, 'same');
  assert.equal(rows['step-1'].change, 'changed');
  assert.equal(rows['step-1'].draft, 'Say (ja-JP): “b”');
  assert.equal(rows['step-1'].published, 'Say (ja-JP): “a”');
  assert.equal(rows['step-2'].change, 'changed'); // its closed count changed
  assert.equal(rows['step-2 › 1'].change, 'removed');
  assert.equal(rows['step-2 › 1'].draft, null);
  assert.equal(rows['step-4'].change, 'added');
  assert.equal(rows['step-4'].label, 'Step 4');

  const never = compareFlows(draft, null, 'en');
  assert.ok(never.every((r) => r.published === null));
  assert.equal(never.find((r) => r.key === 'step-1').change, 'added');
});

test('unsaved changes: the editor differs from the draft as last loaded or saved (editor keys aside)', () => {
  const loaded = { name: '代表', description: '', number: '+815011110001', steps: withKeys([ring]) };
  const saved = draftKey(loaded);
  assert.equal(isUnsaved(loaded, null), false); // not loaded yet
  assert.equal(isUnsaved(loaded, saved), false);
  assert.equal(isUnsaved({ ...loaded, steps: withKeys([ring]) }, saved), false); // new keys, same steps
  const edited = updateStep(loaded.steps, [0], (s) => ({ ...s, strategy: 'sequential' }));
  assert.equal(isUnsaved({ ...loaded, steps: edited }, saved), true);
  assert.equal(isUnsaved({ ...loaded, name: '代表2' }, saved), true);
  assert.equal(isUnsaved({ ...loaded, steps: edited }, draftKey({ ...loaded, steps: edited })), false); // saved
});

test('request bodies: the flow draft, the live switch, a user with new telephony settings', () => {
  const form = { name: '代表', description: '', number: '+815011110001', steps: withKeys([ring]) };
  assert.deepEqual(flowBody(form), { name: '代表', description: '', number: '+815011110001', steps: [ring] });
  assert.equal(flowBody(form, false).enabled, false);
  const rec = { id: 'f1', enabled: false, draft: { name: '代表', description: 'd', number: '+815011110001', steps: [ring] } };
  assert.deepEqual(switchBody(rec, true), { ...rec.draft, enabled: true });

  const user = { id: 'u1', name: '佐藤 花子', role: 'admin', reminders: false, phone: '+819011112222', email: null,
    telephony: { enabled: false } };
  const body = userPutBody(user, { enabled: true, outbound: true, record_outbound: false, caller_id: '+815011110001' });
  assert.deepEqual(body, {
    name: '佐藤 花子', role: 'admin', reminders: false, phone: '+819011112222',
    telephony: { enabled: true, outbound: true, record_outbound: false, caller_id: '+815011110001' },
  });
  assert.equal(userPutBody(user, telephonyOf(user)).telephony.caller_id, null);
  assert.deepEqual(telephonyOf({}), { enabled: false, outbound: false, record_outbound: false, caller_id: '' });
});

test('flowsOnNumber: only published, enabled flows answering on that number', () => {
  const flows = [
    { id: 'a', enabled: true, published: { number: '+1' } },
    { id: 'b', enabled: false, published: { number: '+1' } },
    { id: 'c', enabled: true, published: null, number: '+1' },
    { id: 'd', enabled: true, published: { number: '+2' } },
  ];
  assert.deepEqual(flowsOnNumber(flows, '+1').map((f) => f.id), ['a']);
  assert.deepEqual(flowsOnNumber(undefined, '+1'), []);
});

test('availableQuery and idFrom', () => {
  assert.equal(availableQuery({ country: 'jp', type: 'mobile', contains: ' 1234 ' }), '?country=JP&type=mobile&contains=1234');
  assert.equal(availableQuery({ country: '', type: 'bogus' }), '?type=local');
  assert.equal(idFrom('Sales Team', 'group'), 'sales-team');
  assert.equal(idFrom('営業', 'group', () => 0.5), `group-${Math.floor(0.5 * 36 ** 6).toString(36)}`);
  assert.match(idFrom('', 'flow'), /^flow-[0-9a-z]{6}$/);
});

test('a queue step: API defaults, typed numbers as numbers, empty options left out, a summary, its error path', () => {
  const q = newStep('queue', 'en');
  assert.deepEqual({ ...q.queue }, {
    group: '', hold_music: '', max_wait: 300, timeout: 20, message: '', whisper: '', language: 'en-US',
  });
  const edited = updateStep([q], [0], (s) => ({ ...s, queue: { ...s.queue, group: 'sales', max_wait: '120', timeout: '15' } }));
  assert.deepEqual(apiSteps(edited), [{ queue: { group: 'sales', max_wait: 120, timeout: 15, language: 'en-US' } }]);
  const music = { queue: { group: 'sales', hold_music: 'https://m.example/hold.mp3', max_wait: 60, timeout: 20 } };
  assert.equal(apiSteps([music])[0].queue.hold_music, 'https://m.example/hold.mp3');
  const whisper = { queue: { group: 'sales', max_wait: 60, timeout: 20, whisper: '営業部宛てです。1を押してください。' } };
  assert.equal(apiSteps([whisper])[0].queue.whisper, '営業部宛てです。1を押してください。');
  assert.equal(stepSummary(music, 'ja', { groups: { sales: '営業' } }),
    'グループ「営業」の応答を保留音で待つ（最大60秒、呼び出し20秒）');
  assert.equal(stepSummary({ queue: { group: 'sales' } }, 'en', {}),
    'Wait for group “sales” (up to 300 s, ringing 20 s)');
  assert.deepEqual(errorTarget("steps[0].hours.closed[1].queue.max_wait: must be an integer from 10 to 1800"), {
    step: [0, 1], field: 'queue.max_wait', message: 'must be an integer from 10 to 1800',
  });
});
