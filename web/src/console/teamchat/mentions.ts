// Mentions in internal chat messages (docs/api.md, "Internal chat"): `#123` is ticket 123 and
// `chat 45` (or `chat #45`, any letter case) is chat 45. The message is split into plain text
// and links; the view renders text as text (never as HTML), so a message cannot inject markup.

export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'ticket' | 'chat'; text: string; n: number; href: string };

// `chat 45` first, so `chat #45` is a chat; a bare `#N` not glued to a word or `&` is a ticket.
const MENTION = /\bchat\s?#?(\d{1,9})\b|(?<![\w&])#(\d{1,9})\b/gi;

export function segments(body: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of body.matchAll(MENTION)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ kind: 'text', text: body.slice(last, at) });
    if (m[1] !== undefined) {
      const n = Number(m[1]);
      out.push({ kind: 'chat', text: m[0], n, href: `/chats/${n}` });
    } else {
      const n = Number(m[2]);
      out.push({ kind: 'ticket', text: m[0], n, href: `/tickets/${n}` });
    }
    last = at + m[0].length;
  }
  if (last < body.length) out.push({ kind: 'text', text: body.slice(last) });
  return out;
}
