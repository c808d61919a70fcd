import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUFFERED, DUPLICATE, OpTable, TWICE, Waiter } from '../../src/net/op-table.js';

function waiter(opId: string, got: Uint8Array[] = []): Waiter {
  return new Waiter(
    opId,
    Date.now(),
    (b) => got.push(b),
    () => {},
  );
}

function order(t: OpTable): string[] {
  const out: string[] = [];
  for (let w = t.head; w; w = w.next) out.push(w.opId);
  const back: string[] = [];
  for (let w = t.tail; w; w = w.prev) back.push(w.opId);
  assert.deepEqual(back.reverse(), out, 'the list reads the same both ways');
  return out;
}

void test('op table: each op id is handed over exactly once, in either order', () => {
  const t = new OpTable();
  const m1 = new Uint8Array([1]);
  // Message first: buffered until the recv, then consumed.
  assert.equal(t.arrive('a', m1), BUFFERED);
  assert.equal(t.claim('a'), m1);
  assert.equal(t.claim('a'), TWICE);
  assert.equal(t.arrive('a', m1), DUPLICATE);
  // Recv first: the message goes to the waiter.
  assert.equal(t.claim('b'), undefined);
  const w = waiter('b');
  t.wait(w);
  assert.equal(t.claim('b'), TWICE, 'a second recv while one waits');
  assert.equal(t.arrive('b', m1), w);
  assert.equal(t.head, undefined);
  assert.equal(t.arrive('b', m1), DUPLICATE);
  assert.equal(t.claim('b'), TWICE);
  // A buffered message that arrives twice before its recv is a duplicate too.
  assert.equal(t.arrive('c', m1), BUFFERED);
  assert.equal(t.arrive('c', m1), DUPLICATE);
});

void test('op table: waiters stay in start order; drop and dropAll free their op ids', () => {
  const t = new OpTable();
  const ws = ['w0', 'w1', 'w2', 'w3'].map((op) => waiter(op));
  for (const w of ws) t.wait(w);
  assert.deepEqual(order(t), ['w0', 'w1', 'w2', 'w3']);
  assert.equal(t.arrive('w2', new Uint8Array()), ws[2]);
  assert.deepEqual(order(t), ['w0', 'w1', 'w3']);
  t.drop(ws[0]!); // e.g. timed out: the op id may be awaited again
  assert.deepEqual(order(t), ['w1', 'w3']);
  assert.equal(t.claim('w0'), undefined);
  assert.equal(t.arrive('w0', new Uint8Array([5])), BUFFERED);
  assert.deepEqual(t.claim('w0'), new Uint8Array([5]));
  t.drop(ws[3]!);
  assert.deepEqual(order(t), ['w1']);
  assert.deepEqual(
    t.dropAll().map((w) => w.opId),
    ['w1'],
  );
  assert.equal(t.head, undefined);
  assert.equal(t.tail, undefined);
  assert.equal(t.claim('w1'), undefined);
});

void test('op table: generations keep pending entries and forget consumed ids after two rotations', () => {
  const t = new OpTable();
  const m = new Uint8Array([9]);
  assert.equal(t.arrive('old', m), BUFFERED);
  assert.equal(t.claim('old'), m); // consumed in generation 0
  assert.equal(t.arrive('pending-msg', m), BUFFERED); // buffered across rotations
  const w = waiter('pending-recv');
  t.wait(w); // waiting across rotations
  t.rotate();
  // Consumed ids of the previous generation are still refused, both ways.
  assert.equal(t.claim('old'), TWICE);
  assert.equal(t.arrive('old', m), DUPLICATE);
  // Pending entries moved to the new generation and still work exactly once.
  assert.equal(t.claim('pending-msg'), m);
  assert.equal(t.claim('pending-msg'), TWICE);
  assert.deepEqual(order(t), ['pending-recv']);
  t.rotate();
  assert.equal(t.arrive('pending-recv', m), w);
  assert.equal(t.arrive('pending-recv', m), DUPLICATE);
  // 'pending-msg' was consumed in generation 1: still known after the second rotation.
  assert.equal(t.claim('pending-msg'), TWICE);
  // 'old' (generation 0) is now beyond the window: forgotten.
  assert.equal(t.claim('old'), undefined);
  t.rotate();
  t.rotate();
  assert.equal(t.claim('pending-msg'), undefined);
  // A waiter that was dropped after a rotation leaves nothing behind in either generation.
  const w2 = waiter('late');
  t.wait(w2);
  t.rotate();
  t.drop(w2);
  assert.equal(t.claim('late'), undefined);
});
