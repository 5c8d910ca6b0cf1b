// The console's live chat state, fed by the agent socket through the live connection
// (../live.svelte.ts), which owns the socket.
import { coalesce, mergeBySeq, newClientId, type ChatMessage, type Conversation } from '../../shared/protocol';
import { api, type Attachment } from '../../shared/api';
import { codeText, isSupervisor, t, ui } from '../state.svelte';
import { live, type LiveFrame } from '../live.svelte';
import { DEFAULT_THRESHOLDS, type Thresholds } from './colours';
import { notifier } from '../notify/notifier.svelte';

export type { Conversation };
export type Message = ChatMessage;

export interface Pending {
  client_id: string;
  body: string;
  attachment?: Attachment;
  failed?: string;
  /** A whisper on its way. */
  internal?: boolean;
}

/** The chat page is on screen (the console's start page is the chat page). */
function onChatsPage(): boolean {
  const page = ui.path.split('/')[1] || 'chats';
  return page === 'chats';
}

function visitorLabel(c: Conversation): string {
  return c.visitor.name || c.visitor.email || t('chat.visitor_n', { id: c.visitor.id });
}

class ChatStore {
  queue = $state<Conversation[]>([]);
  mine = $state<Conversation[]>([]);
  supervised = $state<Conversation[]>([]);
  /** Each chat's lines in seq order. Raw (not deeply reactive): a line is never changed, a
   *  chat's list and this record are replaced — a deep proxy made every merge read 2,000 lines
   *  through the proxy, and opening a long chat cost seconds. */
  messages = $state.raw<Record<number, Message[]>>({});
  pending = $state<Record<number, Pending[]>>({});
  typing = $state<Record<number, { typing: boolean; draft?: string | null }>>({});
  unread = $state<Record<number, number>>({});
  visitorRead = $state<Record<number, number>>({});
  selected = $state<number | null>(null);
  incoming = $state<Conversation | null>(null);
  sneakPeek = $state(true);
  error = $state('');
  /** What happened to one of my chats (transferred, taken over), shown until dismissed. */
  notice = $state('');
  /** The status colour thresholds (C8) from the chat settings. */
  thresholds = $state<Thresholds>(DEFAULT_THRESHOLDS);
  /** The time colours are computed at: a display clock ticking every 10 s, not a data poll. */
  now = $state(Date.now());
  private ticker: ReturnType<typeof setInterval> | null = null;
  /** A transfer or take-over waiting for the server's answer (its frame, or an error). */
  private waiting: { conversation: number; done: (error: string) => void } | null = null;
  /** Conversations opened read-only (not mine). */
  private following = new Set<number>();
  private receipts = new Map<string, (seq: number) => void>();

  label = visitorLabel;

  unreadTotal(): number {
    return Object.values(this.unread).reduce((a, b) => a + b, 0);
  }

  constructor() {
    live.setResume(() => Object.entries(this.messages).map(([c, list]) => ({ conversation: Number(c), last_seq: list.at(-1)?.seq ?? 0 })));
    live.on('welcome', (f) => this.onWelcome(f));
    live.on('queue', (f) => this.onQueue(f));
    live.on('accepted', (f) => this.onAccepted(f));
    live.on('assigned', (f) => this.onAssigned(f));
    live.on('opened', (f) => this.onOpened(f));
    live.on('message', (f) => this.onMessage(f));
    live.on('ack', (f) => (this.pending[f.conversation] = (this.pending[f.conversation] ?? []).filter((p) => p.client_id !== f.client_id)));
    live.on('typing', (f) => (this.typing[f.conversation] = { typing: f.typing, draft: f.draft }));
    live.on('read', (f) => (this.visitorRead[f.conversation] = f.seq));
    live.on('status', (f) => this.onStatus(f));
    live.on('chat', (f) => this.onEnded(f.conversation));
    live.on('error', (f) => this.onError(f));
    live.on('access', (f) => this.onAccess(f));
    live.on('transferred', (f) => this.onTransferred(f));
    live.on('taken_over', (f) => this.onTakenOver(f));
  }

  /** Fetch the colour thresholds and start the display clock (on each welcome). */
  private async loadThresholds() {
    try {
      const s = await api.get<Thresholds>('/api/v1/settings/chat');
      this.thresholds = { reply_overdue_s: s.reply_overdue_s, visitor_idle_s: s.visitor_idle_s };
    } catch {
      // keep the defaults
    }
    this.ticker ??= setInterval(() => (this.now = Date.now()), 10_000);
  }

  private finishWaiting(conversation: number, error: string) {
    if (this.waiting && (this.waiting.conversation === conversation || error)) {
      this.waiting.done(error);
      this.waiting = null;
    }
  }

  /** A chat moved: the sender's and receiver's lists follow; a supervisor's list shows who has it. */
  private onTransferred(f: LiveFrame<'transferred'>) {
    const me = ui.me?.id;
    this.finishWaiting(f.conversation, '');
    if (f.to_agent === me) return; // `assigned` brought it
    const c = this.find(f.conversation);
    if (f.from_agent === me) {
      this.mine = this.mine.filter((x) => x.id !== f.conversation);
      if (c && f.by !== me) this.notice = t('team.notice_transferred', { visitor: visitorLabel(c), name: f.by_name });
      if (this.selected === f.conversation && f.to_department != null) this.selected = null;
    }
    if (c && f.to_agent != null) {
      c.agent_id = f.to_agent;
      this.supervised = this.upsert(this.supervised, { ...c, agent_id: f.to_agent, status: 'active' });
    } else if (c && f.to_department != null) {
      this.supervised = this.supervised.filter((x) => x.id !== f.conversation);
    }
  }

  /** A supervisor took a chat over; the former agent is told and keeps it read-only. */
  private onTakenOver(f: LiveFrame<'taken_over'>) {
    const me = ui.me?.id;
    this.finishWaiting(f.conversation, '');
    if (f.agent_id === me) return; // `assigned` brought it
    const c = this.find(f.conversation);
    if (!c) return;
    const moved = { ...c, agent_id: f.agent_id, agent_name: f.name };
    if (f.from_agent === me) {
      this.mine = this.mine.filter((x) => x.id !== f.conversation);
      this.notice = t('team.notice_taken_over', { visitor: visitorLabel(c), name: f.name });
    }
    this.supervised = this.upsert(this.supervised, moved);
  }

  get connected(): boolean {
    return live.connected;
  }

  find(id: number): Conversation | undefined {
    return this.mine.find((c) => c.id === id) ?? this.supervised.find((c) => c.id === id) ?? this.queue.find((c) => c.id === id);
  }

  isMine(id: number): boolean {
    return this.mine.some((c) => c.id === id && c.agent_id === ui.me?.id && c.status === 'active');
  }

  private upsert(list: Conversation[], c: Conversation): Conversation[] {
    return list.some((x) => x.id === c.id) ? list.map((x) => (x.id === c.id ? c : x)) : [...list, c];
  }

  private onWelcome(f: LiveFrame<'welcome'>) {
    this.queue = f.queue;
    this.mine = f.mine;
    this.supervised = f.supervised;
    this.sneakPeek = f.sneak_peek;
    void this.loadThresholds();
  }

  private onQueue(f: LiveFrame<'queue'>) {
    if (f.op === 'add') {
      this.queue = this.upsert(this.queue, f.conversation);
      this.notifyIncoming(f.conversation);
    } else {
      this.queue = this.queue.filter((c) => c.id !== f.conversation);
      if (this.incoming?.id === f.conversation) this.incoming = null;
      notifier.clear(f.conversation, ['queued']);
      // Supervisors see every chat live (C3/C7): a colleague's new chat joins Supervised.
      if (f.agent_id != null && f.agent_id !== ui.me?.id && isSupervisor()) void this.supervise(f.conversation);
    }
  }

  /** Fetch a colleague's chat (the access policy answers) into the Supervised list. */
  private async supervise(id: number) {
    try {
      const r = await api.get<{ conversation: Conversation }>(`/api/v1/conversations/${id}`);
      if (r.conversation.status === 'active' && r.conversation.agent_id !== ui.me?.id && !this.mine.some((c) => c.id === id)) {
        this.supervised = this.upsert(this.supervised, r.conversation);
      }
    } catch {
      // gone or no longer visible: nothing to show
    }
  }

  private onAccepted(f: LiveFrame<'accepted'>) {
    this.mine = this.upsert(this.mine, f.conversation);
    this.queue = this.queue.filter((c) => c.id !== f.conversation.id);
    this.selected = f.conversation.id;
    this.incoming = null;
    notifier.clear(f.conversation.id);
  }

  /** Routing gave me a chat: it joins My chats (and opens when nothing else is open). */
  private onAssigned(f: LiveFrame<'assigned'>) {
    const known = this.mine.some((c) => c.id === f.conversation.id);
    this.mine = this.upsert(this.mine, f.conversation);
    this.supervised = this.supervised.filter((c) => c.id !== f.conversation.id);
    this.finishWaiting(f.conversation.id, '');
    this.queue = this.queue.filter((c) => c.id !== f.conversation.id);
    if (this.selected === null) this.selected = f.conversation.id;
    if (this.incoming?.id === f.conversation.id) this.incoming = null;
    notifier.clear(f.conversation.id, ['queued']);
    // A chat routed to me (not a replay after a reconnect) is new work wherever I am.
    if (!known) {
      notifier.raise({ kind: 'assigned', conversation: f.conversation.id, who: visitorLabel(f.conversation), preview: f.conversation.preview ?? '' }, t('notify.assigned'));
      // Opened on the chat page in front of the agent: the chime was enough.
      if (this.selected === f.conversation.id && onChatsPage() && document.visibilityState === 'visible') notifier.clear(f.conversation.id, ['assigned']);
    }
  }

  private onOpened(f: LiveFrame<'opened'>) {
    this.following.add(f.conversation.id);
    if (f.conversation.agent_id !== ui.me?.id) this.supervised = this.upsert(this.supervised, f.conversation);
  }

  private onStatus(f: LiveFrame<'status'>) {
    for (const list of [this.mine, this.supervised]) {
      const c = list.find((x) => x.id === f.conversation);
      if (c) {
        c.status = f.status;
        if (f.status === 'ended') c.outcome = f.outcome;
        if (f.status === 'active') c.agent_name = f.agent_name;
      }
    }
  }

  /** The server re-checked this agent's rights (role, departments, the colleagues switch):
   *  chats it may no longer follow leave the lists, and the role shown follows. */
  private onAccess(f: LiveFrame<'access'>) {
    const gone = new Set(f.unfollowed);
    if (gone.size) {
      this.supervised = this.supervised.filter((c) => !gone.has(c.id));
      for (const id of gone) {
        this.following.delete(id);
        const { [id]: _gone, ...kept } = this.messages;
        this.messages = kept;
        delete this.typing[id];
        delete this.unread[id];
      }
      if (this.selected != null && gone.has(this.selected)) this.selected = null;
    }
    if (ui.me && ui.me.role !== f.role) ui.me = { ...ui.me, role: f.role };
  }

  private onEnded(conversation: number) {
    const c = this.mine.find((x) => x.id === conversation) ?? this.supervised.find((x) => x.id === conversation);
    if (c) c.status = 'ended';
    notifier.clear(conversation);
  }

  private onError(f: LiveFrame<'error'>) {
    if (f.ref) {
      for (const [conv, list] of Object.entries(this.pending)) {
        const p = list.find((x) => x.client_id === f.ref);
        if (p) {
          p.failed = codeText(f.code, f.message);
          this.pending[Number(conv)] = [...list];
        }
      }
    } else if (this.waiting) {
      this.finishWaiting(this.waiting.conversation, codeText(f.code, f.message));
    } else {
      this.error = codeText(f.code, f.message);
    }
  }

  private onMessage(m: Message) {
    const list = this.messages[m.conversation] ?? [];
    const merged = mergeBySeq(list, m);
    if (merged === list) return;
    this.messages = { ...this.messages, [m.conversation]: merged };
    const c = this.find(m.conversation);
    // A line the agent's console had before (the replay after a reload, or on opening a chat)
    // is not new: no receipt, no alert; and unread only if it was never read.
    const fresh = !c || m.seq > c.agent_delivered_seq;
    const unseen = !c || m.seq > c.agent_read_seq;
    if (c) {
      c.last_seq = Math.max(c.last_seq, m.seq);
      if (m.author.kind !== 'system' && !m.internal) c.preview = m.body || m.attachment?.name || c.preview;
      if (m.author.kind === 'visitor') c.last_visitor_message_at = Math.max(c.last_visitor_message_at ?? 0, m.at);
      if (m.author.kind === 'agent' && !m.internal) c.last_agent_message_at = Math.max(c.last_agent_message_at ?? 0, m.at);
    }
    if (m.internal && unseen && m.author.agent_id !== ui.me?.id && this.isMine(m.conversation) && this.selected !== m.conversation) {
      this.unread[m.conversation] = (this.unread[m.conversation] ?? 0) + 1;
    }
    if (m.author.kind === 'visitor' && this.isMine(m.conversation)) {
      if (fresh) {
        this.receipt('delivered', m.conversation, m.seq);
        if (c) c.agent_delivered_seq = m.seq;
      }
      if (this.selected === m.conversation && document.visibilityState === 'visible' && onChatsPage()) this.markRead(m.conversation);
      else if (unseen) {
        this.unread[m.conversation] = (this.unread[m.conversation] ?? 0) + 1;
        const who = c ? visitorLabel(c) : '';
        if (fresh) notifier.raise({ kind: 'message', conversation: m.conversation, who, preview: m.body || m.attachment?.name || '' }, t('chat.new_message_from', { name: who }));
      }
    }
  }

  private notifyIncoming(c: Conversation) {
    this.incoming = c;
    notifier.raise({ kind: 'queued', conversation: c.id, who: visitorLabel(c), preview: c.preview ?? '' }, t('chat.incoming'));
  }

  select(id: number) {
    this.selected = id;
    this.unread[id] = 0;
    notifier.clear(id, ['assigned', 'message']);
    const known = this.messages[id];
    if (!this.isMine(id) && !this.following.has(id)) {
      live.send({ type: 'open', conversation: id, last_seq: known?.at(-1)?.seq ?? 0 });
    }
    this.markRead(id);
  }

  /** Receipts go out coalesced per chat and kind: a visitor's burst of messages (or a long chat
   *  caught up at once) costs the server, and the visitor's widget, two receipts instead of one
   *  per message; the highest seq always goes. */
  private receipt(type: 'delivered' | 'read', conversation: number, seq: number) {
    const key = `${type}:${conversation}`;
    let send = this.receipts.get(key);
    if (!send) {
      send = coalesce<number>(100, (s) => live.send({ type, conversation, seq: s }), Math.max);
      this.receipts.set(key, send);
    }
    send(seq);
  }

  markRead(id: number) {
    const last = this.messages[id]?.at(-1)?.seq;
    if (last && this.isMine(id)) {
      this.receipt('read', id, last);
      const c = this.find(id);
      if (c) c.agent_read_seq = Math.max(c.agent_read_seq, last);
    }
    this.unread[id] = 0;
  }

  accept(id: number) {
    live.send({ type: 'accept', conversation: id });
  }

  send(conversation: number, body: string, attachment?: Attachment) {
    const client_id = newClientId();
    this.pending[conversation] = [...(this.pending[conversation] ?? []), { client_id, body, attachment }];
    live.sendMessage({ type: 'message', conversation, client_id, body, ...(attachment ? { attachment: attachment.token } : {}) });
  }

  setTyping(conversation: number, typing: boolean) {
    live.send({ type: 'typing', conversation, typing });
  }

  end(conversation: number) {
    live.send({ type: 'end', conversation });
  }

  /** Wait for the answer to a transfer or take-over: '' when done, else the reason. */
  private answer(conversation: number, send: () => boolean): Promise<string> {
    this.waiting?.done(t('error.conflict'));
    return new Promise((done) => {
      this.waiting = { conversation, done };
      if (!send()) this.finishWaiting(conversation, t('chat.reconnecting'));
    });
  }

  /** Hand the chat to an agent or a department, with a note only agents see (C7). */
  transfer(conversation: number, to: { agent_id: number } | { department_id: number }, note: string, force: boolean): Promise<string> {
    const frame = { type: 'transfer' as const, conversation, ...to, ...(note.trim() ? { note: note.trim() } : {}), ...(force ? { force } : {}) };
    return this.answer(conversation, () => live.send(frame));
  }

  takeOver(conversation: number): Promise<string> {
    return this.answer(conversation, () => live.send({ type: 'take_over', conversation }));
  }

  /** A supervisor's internal line: agents see it, the visitor never does. */
  whisper(conversation: number, body: string) {
    const client_id = newClientId();
    this.pending[conversation] = [...(this.pending[conversation] ?? []), { client_id, body, internal: true }];
    if (!live.send({ type: 'whisper', conversation, client_id, body })) {
      this.pending[conversation] = this.pending[conversation].map((p) => (p.client_id === client_id ? { ...p, failed: t('chat.reconnecting') } : p));
    }
  }
}

export const chat = new ChatStore();

export function notify(title: string, body: string) {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || document.visibilityState === 'visible') return;
  try {
    new Notification(title, { body, tag: 'frontdesk' });
  } catch {
    // some browsers only allow notifications from a service worker
  }
}

/** Ask for desktop notifications (on a click: browsers allow it only then). */
export { askPermission as askNotificationPermission } from '../notify/notifier.svelte';
