// leave.js: views with unsaved work register a guard; leaving asks only while there is something to lose.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { addLeaveGuard, leaveQuestion, mayLeave } from '../leave.js';

test('leave guards: no question without unsaved work; the question while there is; removed on unmount', () => {
  const asked = [];
  const confirm = (answer) => (q) => {
    asked.push(q);
    return answer;
  };
  assert.equal(leaveQuestion(), '');
  assert.equal(mayLeave(confirm(false)), true);
  assert.deepEqual(asked, []); // nothing to lose: never asks

  let unsaved = false;
  const remove = addLeaveGuard(() => (unsaved ? 'Leave and lose the changes?' : ''));
  assert.equal(mayLeave(confirm(false)), true);
  unsaved = true;
  assert.equal(leaveQuestion(), 'Leave and lose the changes?');
  assert.equal(mayLeave(confirm(false)), false); // "stay"
  assert.equal(mayLeave(confirm(true)), true); // "leave"
  assert.deepEqual(asked, ['Leave and lose the changes?', 'Leave and lose the changes?']);
  unsaved = false; // saved or discarded
  assert.equal(leaveQuestion(), '');
  unsaved = true;
  remove(); // the editor is gone
  assert.equal(leaveQuestion(), '');
});
