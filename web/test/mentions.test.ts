import { describe, expect, it } from 'vitest';
import { segments } from '../src/console/teamchat/mentions';

describe('internal chat mentions', () => {
  it('turns #N into a ticket link and chat N into a chat link', () => {
    expect(segments('see #123 and chat 45, or Chat #7.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'ticket', text: '#123', n: 123, href: '/tickets/123' },
      { kind: 'text', text: ' and ' },
      { kind: 'chat', text: 'chat 45', n: 45, href: '/chats/45' },
      { kind: 'text', text: ', or ' },
      { kind: 'chat', text: 'Chat #7', n: 7, href: '/chats/7' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('leaves what is not a mention alone', () => {
    for (const body of ['no numbers here', 'a#12 glued', '&#60;script', 'chatter 5', '#x', '#1234567890']) {
      expect(segments(body)).toEqual([{ kind: 'text', text: body }]);
    }
    expect(segments('')).toEqual([]);
  });

  it('keeps markup as plain text', () => {
    const s = segments('<img src=x onerror=alert(1)> #5');
    expect(s[0]).toEqual({ kind: 'text', text: '<img src=x onerror=alert(1)> ' });
    expect(s[1]).toMatchObject({ kind: 'ticket', n: 5 });
  });
});
