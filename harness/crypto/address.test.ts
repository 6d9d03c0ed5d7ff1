import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { addressKey, toLibraryAddress } from './address.ts';

describe('toLibraryAddress', () => {
  it.each([
    ['491701234567@s.whatsapp.net', '491701234567', 0],
    ['491701234567:0@s.whatsapp.net', '491701234567', 0],
    ['491701234567:3@s.whatsapp.net', '491701234567', 3],
    ['1-10853634039893@interop', '1-10853634039893', 0],
    ['1-10853634039893:12@interop', '1-10853634039893', 12],
    ['123456789012345@lid', '123456789012345', 0],
  ])('%s -> %s device %i', (jid, name, deviceId) => {
    expect(toLibraryAddress(jid)).toEqual({ name, deviceId });
  });

  it.each([
    'bob',
    '',
    's.whatsapp.net',
    '120363025246125888@g.us',
    '491701234567@example.com',
    '49170.1234567@s.whatsapp.net',
    '491701234567:1000@s.whatsapp.net',
    '491701234567:@s.whatsapp.net',
    'abc@s.whatsapp.net',
  ])('refuses %j', (jid) => {
    expect(() => toLibraryAddress(jid)).toThrow(HarnessError);
  });

  it('keys an address as name.device', () => {
    expect(addressKey(toLibraryAddress('1-42:7@interop'))).toBe('1-42.7');
    expect(addressKey(toLibraryAddress('1-42@interop'))).toBe('1-42.0');
  });
});
