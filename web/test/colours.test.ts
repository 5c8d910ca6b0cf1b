import { describe, expect, it } from 'vitest';
import { chatColour } from '../src/console/chat/colours';

const th = { reply_overdue_s: 60, visitor_idle_s: 300 };
const base = { status: 'active' as const, created_at: 0, last_visitor_message_at: 1_000, last_agent_message_at: null as number | null };

describe('chat status colours (C8)', () => {
  it.each([
    ['unanswered within the threshold', base, 61_000, null],
    ['unanswered past the threshold', base, 61_001, 'overdue'],
    ['answered, visitor recently active', { ...base, last_agent_message_at: 2_000 }, 200_000, null],
    ['answered, visitor silent past the idle threshold', { ...base, last_agent_message_at: 2_000 }, 301_001, 'idle'],
    ['the visitor wrote again after the answer', { ...base, last_visitor_message_at: 5_000, last_agent_message_at: 2_000 }, 65_001, 'overdue'],
    ['no visitor message yet: counts from the start', { ...base, last_visitor_message_at: null }, 60_001, 'overdue'],
    ['ended chats have no colour', { ...base, status: 'ended' as const }, 999_999, null],
  ])('%s', (_, c, now, want) => {
    expect(chatColour(c, now, th)).toBe(want);
  });
  it('follows the thresholds', () => {
    expect(chatColour(base, 31_001, { reply_overdue_s: 30, visitor_idle_s: 300 })).toBe('overdue');
  });
});
