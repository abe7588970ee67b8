// Leaving with unsaved work: a view with an unsaved draft (the call-flow editor) registers a guard
// that returns its question (in the user's language) while there is something to lose, else ''.
// app.js asks it before the route changes and on `beforeunload`. Pure: no DOM.

const guards = new Set();

/** Register `question()` (→ a question while leaving would lose something, else ''); → unregister. */
export function addLeaveGuard(question) {
  guards.add(question);
  return () => {
    guards.delete(question);
  };
}

/** The first guard's question, or '' when nothing would be lost by leaving. */
export function leaveQuestion() {
  for (const question of guards) {
    const q = question();
    if (q) return q;
  }
  return '';
}

/** Whether leaving may go ahead: nothing to lose, or `confirm(question)` said yes. */
export function mayLeave(confirm) {
  const q = leaveQuestion();
  return !q || Boolean(confirm(q));
}
