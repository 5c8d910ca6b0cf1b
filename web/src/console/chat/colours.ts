// Status colours of chat list items (SPEC C8), as a pure function of the conversation, the
// time and the admin's thresholds (`GET /api/v1/settings/chat`):
//   overdue — the visitor's last message has waited longer than `reply_overdue_s` for an
//             agent's reply (red);
//   idle    — the visitor has been silent longer than `visitor_idle_s` (grey);
//   null    — neither. Unread (bold) is the separate unread counter.
import type { Conversation } from '../../shared/protocol';

export interface Thresholds {
  reply_overdue_s: number;
  visitor_idle_s: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { reply_overdue_s: 120, visitor_idle_s: 300 };

export type Colour = 'overdue' | 'idle' | null;

type Times = Pick<Conversation, 'status' | 'created_at' | 'last_visitor_message_at' | 'last_agent_message_at'>;

export function chatColour(c: Times, now: number, th: Thresholds): Colour {
  if (c.status === 'ended') return null;
  const visitorAt = c.last_visitor_message_at ?? c.created_at;
  const answered = c.last_agent_message_at != null && c.last_agent_message_at >= visitorAt;
  if (!answered && now - visitorAt > th.reply_overdue_s * 1000) return 'overdue';
  if (answered && now - visitorAt > th.visitor_idle_s * 1000) return 'idle';
  return null;
}
