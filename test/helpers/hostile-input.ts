import fc from 'fast-check';

// Generators of hostile alert input shared by the parser and webhook fuzz tests.

/** C0 controls but TAB, LF and CR; DEL; C1 controls. */
export const controlCode = fc.oneof(
  fc.integer({ min: 0x00, max: 0x08 }),
  fc.constantFrom(0x0b, 0x0c),
  fc.integer({ min: 0x0e, max: 0x1f }),
  fc.integer({ min: 0x7f, max: 0x9f }),
);

/** Byte sequences no UTF-8 decoder may accept, wherever they land in valid text. */
export const invalidUtf8 = fc.constantFrom(
  [0x80], // a lone continuation byte
  [0xbf],
  [0xc0, 0xaf], // overlong '/'
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf], // overlong 3-byte form
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8 (CESU-8)
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5],
  [0xfe],
  [0xff],
  [0xc3], // a 2-byte sequence cut short
  [0xe2, 0x82], // a 3-byte sequence cut short
  [0xf0, 0x9f, 0x98], // a 4-byte sequence cut short
);
