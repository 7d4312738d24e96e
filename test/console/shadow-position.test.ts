import { describe, expect, it } from 'vitest';
import { shadowPosition } from '../../src/console/shadow-position.js';

describe('shadowPosition', () => {
  it('reads market_position and its size from a key=value alert, in any case and spacing', () => {
    expect(shadowPosition('relay_id=A; prev_market_position=flat; market_position=long; market_position_size=2;')).toBe('long 2');
    expect(shadowPosition('relay_id=A;\nMARKET_POSITION = Short\nmarket_position_size=1')).toBe('short 1');
    expect(shadowPosition('relay_id=A; market_position=long;')).toBe('long');
    expect(shadowPosition('relay_id=A; market_position=flat; market_position_size=0;')).toBe('flat');
  });

  it('reads them from a JSON alert', () => {
    expect(shadowPosition('{"relay_id":"A","market_position":"long","market_position_size":3}')).toBe('long 3');
  });

  it('answers null when the alert does not say, or says something else, and never takes prev_market_position', () => {
    expect(shadowPosition('relay_id=A; prev_market_position=long;')).toBeNull();
    expect(shadowPosition('relay_id=A; market_position={{strategy.market_position}};')).toBeNull();
    expect(shadowPosition('[not stored: refused before reading, 120 bytes]')).toBeNull();
    expect(shadowPosition('relay_id=A; market_position=long; market_position_size=<b>2</b>;')).toBe('long');
  });
});
