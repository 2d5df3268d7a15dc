import { describe, expect, it } from 'vitest';
import { PendingSync } from '../src/pending-sync.js';

describe('PendingSync', () => {
  it('a factory value (optional) is kept while there is room and never makes the replay overflow', () => {
    const pending = new PendingSync(2);
    pending.addKey('a', 1, true, new Uint8Array([1]), 10, true);
    pending.addKey('b', 2, true, new Uint8Array([2]), 10, true);
    pending.addKey('c', 3, true, new Uint8Array([3]), 10, true); // no room: skipped
    expect([...pending.keys.keys()]).toEqual(['a', 'b']);
    expect(pending.overflowed).toBe(false);
    pending.addKey('b', 4, true, new Uint8Array([4]), 10, true); // a newer value of a known key still lands
    expect(pending.keys.get('b')?.at).toBe(4);
    pending.addKey('d', 5, true, new Uint8Array([5]), 10); // an explicit write past the bound overflows
    expect(pending.overflowed).toBe(true);
  });

  it('remembers failed notices by what they are about, newest wins, bounded', () => {
    const pending = new PendingSync(2);
    expect(pending.empty).toBe(true);
    pending.addNotice({ kind: 'set', target: 'k' });
    pending.addNotice({ kind: 'delete', target: 'k' });
    pending.addNotice({ kind: 'set', target: 'k' });
    expect(pending.notices.size).toBe(2);
    expect(pending.empty).toBe(false);
    pending.addNotice({ kind: 'tags', tags: ['t'], at: 5 });
    expect(pending.noticesOverflowed).toBe(true);
    pending.clear();
    expect(pending.empty).toBe(true);
  });
});
