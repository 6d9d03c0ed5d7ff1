import { describe, expect, it } from 'vitest';
import { HarnessError } from '../../codes.ts';
import {
  bytesEqual,
  FirstMessageLedger,
  IdentityBook,
  randomRegistrationId,
  SerialQueue,
  withoutType,
  withType,
} from './common.ts';

describe('key bytes', () => {
  it('adds and strips the 0x05 type byte', () => {
    const raw = new Uint8Array(32).fill(9);
    const typed = withType(raw);
    expect(typed).toHaveLength(33);
    expect(typed[0]).toBe(5);
    expect(bytesEqual(withoutType(typed), raw)).toBe(true);
    expect(() => withoutType(raw)).toThrow(HarnessError);
    expect(() => withoutType(Uint8Array.of(6, ...raw))).toThrow(HarnessError);
  });

  it('compares bytes', () => {
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
  });

  it('draws registration ids from the whole uint32 range, never 0', () => {
    const ids = Array.from({ length: 200 }, randomRegistrationId);
    for (const id of ids) expect(Number.isInteger(id) && id >= 1 && id <= 0xffffffff).toBe(true);
    expect(ids.some((id) => id > 2 ** 31)).toBe(true);
  });
});

describe('SerialQueue', () => {
  it('runs tasks one at a time, in order, and survives a failing task', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      q.run(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a', 15), task('b', 1, true), task('c', 5)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});

describe('IdentityBook', () => {
  it('trusts an unknown or equal key, refuses a different one until it is saved', () => {
    const book = new IdentityBook();
    const k1 = new Uint8Array(32).fill(1);
    const k2 = new Uint8Array(32).fill(2);
    expect(book.isTrusted('alice', k1)).toBe(true);
    expect(book.save('alice', k1)).toBe(false);
    expect(book.isTrusted('alice', k1)).toBe(true);
    expect(book.isTrusted('alice', k2)).toBe(false);
    expect(book.save('alice', k2)).toBe(true);
    expect(book.isTrusted('alice', k2)).toBe(true);
  });

  it('keeps copies and restores from a snapshot', () => {
    const book = new IdentityBook();
    const k = new Uint8Array(32).fill(1);
    book.save('alice', k);
    k.fill(7);
    expect(book.get('alice')?.[0]).toBe(1);
    const snap = book.snapshot();
    book.save('bob', k);
    book.restore(snap);
    expect(book.get('bob')).toBeUndefined();
    expect(book.get('alice')?.[0]).toBe(1);
  });
});

describe('FirstMessageLedger', () => {
  const key = (n: number) => FirstMessageLedger.key('alice.0', new Uint8Array(32), Uint8Array.of(n), n);

  it('keys by sender, base key, ratchet key and counter', () => {
    expect(key(1)).not.toBe(key(2));
    expect(FirstMessageLedger.key('a.0', Uint8Array.of(1), Uint8Array.of(2), 3)).toBe('a.0/01/02/3');
  });

  it('remembers, snapshots and restores', () => {
    const l = new FirstMessageLedger();
    l.add(key(1));
    const snap = l.snapshot();
    l.add(key(2));
    expect(l.has(key(2))).toBe(true);
    l.restore(snap);
    expect(l.has(key(1))).toBe(true);
    expect(l.has(key(2))).toBe(false);
  });

  it('forgets the oldest entry past its cap', () => {
    const l = new FirstMessageLedger();
    for (let i = 0; i <= FirstMessageLedger.CAP; i++) l.add(key(i));
    expect(l.has(key(0))).toBe(false);
    expect(l.has(key(1))).toBe(true);
    expect(l.has(key(FirstMessageLedger.CAP))).toBe(true);
    expect(l.snapshot()).toHaveLength(FirstMessageLedger.CAP);
  });
});
