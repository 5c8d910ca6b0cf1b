import { describe, expect, it } from 'vitest';
import { embedderOrigin, fromWindow } from '../src/shared/embed';

describe('widget ↔ embedding page (finding 16b)', () => {
  it('talks to the origin the loader passed, unless the referrer says otherwise', () => {
    expect(embedderOrigin('https://shop.example', 'https://shop.example/shoes?x=1')).toBe('https://shop.example');
    expect(embedderOrigin('https://shop.example', '')).toBe('https://shop.example');
    expect(embedderOrigin('https://evil.example', 'https://shop.example/')).toBe('');
    expect(embedderOrigin('', 'https://shop.example/'), 'no origin passed: post to nobody (never "*")').toBe('');
    expect(embedderOrigin('null', ''), 'a file:// page has no origin to post to').toBe('');
    expect(embedderOrigin('https://shop.example/path', '')).toBe('');
  });

  it('accepts messages only from the parent window at that origin', () => {
    const parent = {};
    const other = {};
    const origin = 'https://shop.example';
    expect(fromWindow({ source: parent as Window, origin }, parent, origin)).toBe(true);
    expect(fromWindow({ source: other as Window, origin }, parent, origin), 'another window of the same site').toBe(false);
    expect(fromWindow({ source: parent as Window, origin: 'https://evil.example' }, parent, origin)).toBe(false);
    expect(fromWindow({ source: null, origin }, parent, origin)).toBe(false);
    expect(fromWindow({ source: parent as Window, origin: '' }, parent, '')).toBe(false);
  });
});
