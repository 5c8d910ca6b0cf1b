// The widget's state and connection (issue 12, W1 budget): everything a CLOSED widget needs —
// the socket (the visitors list, invitations, the launcher's unread badge, page views), the
// shop's appearance for the launcher, the routing state — and nothing it draws. The panel that
// draws it (Panel.svelte: messages, composer, offline form, department picker, icons, emoji,
// styles) is a lazy chunk, mounted when the widget opens (or is restored open, or an invitation
// opens it) and fetched ahead when the visitor points at or focuses the launcher (`fd:warm`).
import { ChatSocket, coalesce, mergeAll, newClientId, socketUrl, type ChatMessage, type IdentityClaim, type Known, type PrechatAnswers, type ResolvedAppearance, type VisitorClientFrame, type VisitorConversation, type VisitorServerFrame, type VisitorWelcomeFrame } from '../shared/protocol';
import { upload, parseError, ApiError, type Attachment } from '../shared/api';
import { detectLocale, translate, type Locale } from '../shared/i18n';
import { embedderOrigin, fromWindow } from '../shared/embed';
import { en, isKey, loadDict, type Key, type Messages } from './locales';

export type Msg = ChatMessage;
export interface Pending { client_id: string; body: string; attachment?: Attachment; failed?: string }
export interface TicketMsg { kind: string; body: string; agent_name: string | null; created_at: number }
export type Sample = { agent: string; visitor: string; name: string; view: 'chat' | 'offline' | 'ended' };

const hash = new URLSearchParams(location.hash.slice(1));
const KEY = 'frontdesk.visitor';
/** A server error code in the visitor's language: a few have their own sentence, every other
 *  code the server emits (src/error.rs, docs/protocol.md) a general one; the server's own
 *  message only for codes this widget does not know. */
const SERVER_CODES = 'invalid_json invalid_input unknown_field unauthenticated invalid_credentials forbidden bad_origin not_found method_not_allowed conflict internal unknown_type invalid_frame unsupported unsupported_version hello_required banned';
const readToken = () => { try { return localStorage.getItem(KEY) || hash.get('t') || ''; } catch { return hash.get('t') || ''; } };

export class WidgetCore {
  // The embedding page's origin: the only window this widget posts to (its token among others)
  // or takes `fd:*` messages from (shared/embed.ts).
  readonly parentOrigin = embedderOrigin(hash.get('o') || '', document.referrer);
  // The browser's language until the shop's settings say otherwise (W2: a forced language).
  readonly browserLocale = detectLocale([hash.get('l') || '', ...(navigator.languages ?? [])]);
  locale = $state<Locale>('en');
  dict = $state<Messages>(en);
  /** Preview mode (W2): the admin's settings page shows this very widget, fed unsaved settings; no socket. */
  readonly preview = hash.get('preview') === '1';
  look = $state<ResolvedAppearance | null>(null);
  sample = $state<Sample | null>(null);
  /** The shop's signed customer identity (W12), passed by the loader; checked by the server only. */
  readonly identity = ((): IdentityClaim | undefined => { try { return JSON.parse(hash.get('id') || 'null') ?? undefined; } catch { return undefined; } })();
  known = $state<Known | null>(null);
  prechatForms = $state<VisitorWelcomeFrame['prechat']>({});
  /** The answers of a chat being started; cleared once it exists. */
  prechatDone = $state(false);
  prechatError = $state('');
  token = $state(readToken());
  page = { url: hash.get('u') || document.referrer || location.href, title: hash.get('ti') || '', referrer: hash.get('r') || '' };
  conversation = $state<Pick<VisitorConversation, 'id' | 'status' | 'agent_name'> | null>(null);
  messages = $state.raw<Msg[]>([]);
  // A replay arrives as `history` frames; merged once, when its last frame is in.
  replay: Msg[] = [];
  pending = $state<Pending[]>([]);
  receipts = $state({ delivered: 0, read: 0 });
  /** Every message line shows its receipt, so each change re-draws them all: an agent's console
   *  catching up on a long chat sends one receipt per message, and those land here as one
   *  change per 100 ms (receipts only move forward). */
  private takeReceipt = coalesce<{ conversation: number; delivered: number; read: number }>(
    100,
    ({ delivered, read }) => {
      if (delivered !== this.receipts.delivered || read !== this.receipts.read) this.receipts = { delivered, read };
    },
    (a, b) => (a.conversation === b.conversation ? { ...b, delivered: Math.max(a.delivered, b.delivered), read: Math.max(a.read, b.read) } : b),
  );
  agentTyping = $state<string | null>(null);
  connected = $state(false);
  // Refused by a ban (W10): the socket was closed with 1008 (final), the widget shows nothing.
  banned = $state(false);
  sneakPeek = $state(true);
  text = $state('');
  showEmoji = $state(false);
  error = $state('');
  isOpen = $state(!window.parent || window.parent === window);
  /** Bumped when the visitor opens the widget (not on a restore): the panel moves the focus in. */
  focusWanted = $state(0);
  // Offline mode (W6): chat is closed (routing says why), so the widget takes a message that becomes a ticket.
  mode = $state<'chat' | 'offline' | 'sent'>('chat');
  offline = $state({ name: '', email: '', message: '' });
  tickets = $state<{ number: number; subject: string; status: string; messages: TicketMsg[] }[]>([]);
  // Routing (W1, W6, W7): whether chat is open, per department; the chosen department; the
  // place in the queue while waiting; the End chat confirmation.
  routing = $state<Pick<VisitorWelcomeFrame, 'open' | 'offline' | 'departments' | 'default_department'> | null>(null);
  department = $state<number | null>(null);
  place = $state<{ position: number; estimated_wait_s: number | null; waited_s: number; wait_notice_s: number; retention_s: number; at: number } | null>(null);
  confirmEnd = $state(false);
  // A proactive invitation (W9): shown as the inviting agent's message until answered or closed.
  invitation = $state<{ id: number; body: string; agent_name: string } | null>(null);
  chatting = $derived(!!this.conversation && this.conversation.status !== 'ended');
  /** The state of the department a new chat would go to. */
  target = $derived.by(() => {
    if (!this.routing) return { open: true, offline: 'form' as const };
    const id = this.department ?? this.routing.default_department;
    return this.routing.departments.find((d) => d.id === id) ?? { open: this.routing.open, offline: this.routing.offline };
  });
  picking = $derived(!!this.routing && !this.chatting && this.department === null && this.routing.default_department === null && this.routing.departments.length > 1 && this.mode === 'chat');
  // Earlier (ended) chats of a returning visitor, newest first; the one shown above is left out.
  earlier = $state<{ id: number; created_at: number; messages: Msg[] }[]>([]);
  earlierShown = $derived(this.earlier.filter((c) => c.id !== this.conversation?.id));
  /** After an ended chat its transcript (and rating) stays until the visitor starts anew. */
  askForm = $state(false);
  /** The form of the department a new chat would go to, unless it is answered or nothing to ask. */
  formNeeded = $derived.by(() => {
    const f = this.prechatForms?.[String(this.department ?? this.routing?.default_department ?? '')];
    if (!f || this.chatting || this.prechatDone || this.mode !== 'chat') return null;
    const known = this.known;
    const open = f.fields.filter((x) => !(known && (x.kind === 'name' || x.kind === 'email' || x.kind === 'phone') && known[x.kind]));
    return open.length || (f.consent && !known?.consent) ? f : null;
  });
  form = $derived(this.formNeeded && (!this.conversation || this.askForm) ? this.formNeeded : null);
  /** One status line: nothing that contradicts the form or picker below it. */
  statusLine = $derived.by(() => {
    if (!this.connected) return this.t('offline_connection');
    if (this.mode !== 'chat' || this.picking) return '';
    if (this.conversation?.status === 'queued') return this.t('queued');
    if (this.conversation?.status === 'active') return this.t('active', { name: this.conversation.agent_name ?? '' });
    if (this.conversation?.status === 'ended') return this.t('ended');
    return '';
  });
  /** The last message the visitor has seen: agent messages after it are unread (the badge). */
  seenSeq = 0;
  typingSent = 0;
  typingTimer: ReturnType<typeof setTimeout> | null = null;
  /** Asks for the panel (main.ts loads and mounts it once). */
  wantPanel: () => void = () => {};
  /** Whether the panel was wanted: the visitor's earlier chats and answered tickets show only
   *  there, so a closed widget — most page views — never asks for them. */
  private listsWanted = false;

  /** The panel is wanted (opened, restored open, an invitation, the pointer on the launcher):
   *  fetch it, and the visitor's lists with it (again after each welcome from then on). */
  panelWanted() {
    if (!this.listsWanted) {
      this.listsWanted = true;
      this.loadLists();
    }
    this.wantPanel();
  }

  private loadLists() {
    void this.loadTickets();
    void this.loadEarlier();
  }

  socket = new ChatSocket<VisitorClientFrame, VisitorServerFrame>({
    url: socketUrl('/ws/visitor'),
    hello: () => ({
      type: 'hello', v: 1, token: this.token || undefined, page: this.page,
      tz: Intl.DateTimeFormat().resolvedOptions().timeZone, lang: this.locale, history: true, ...(this.identity ? { identity: this.identity } : {}),
      ...(this.conversation ? { resume: { conversation: this.conversation.id, last_seq: this.lastSeq() } } : {}),
    }),
    onFrame: (f) => this.onFrame(f),
    onState: (s) => (this.connected = s === 'open'),
  });

  constructor() {
    this.useLocale(this.browserLocale);
    $effect.root(() => {
      /** Closed and set to hide: the widget and its launcher go away (W6, W7). */
      $effect(() => {
        if (this.routing && !this.chatting && !this.target.open) {
          if (this.target.offline === 'hide') this.toParent({ type: 'fd:hide' });
          else if (this.mode === 'chat') this.mode = 'offline';
        }
      });
    });
  }

  useLocale = (l: Locale) => {
    this.locale = l;
    loadDict(l).then((d) => {
      this.dict = d;
      this.sendNames();
    });
  };
  t = (k: Key, p?: Record<string, string | number>) => translate({ en, ru: this.dict, uk: this.dict, pl: this.dict }, this.locale, k, p);
  agentName = (name: string | null | undefined) => (this.look && !this.look.show_agent_name ? this.t('agent_generic') : (name ?? ''));
  codeText = (code: string, message: string) => {
    const key = `err_${code}`;
    if (isKey(key)) return this.t(key);
    return SERVER_CODES.split(' ').includes(code) ? this.t('err_error') : message;
  };
  lastSeq = () => this.messages.at(-1)?.seq ?? 0;
  toParent = (msg: object) => { if (this.parentOrigin && window.parent !== window) window.parent.postMessage(msg, this.parentOrigin); };

  onFrame(f: VisitorServerFrame) {
    switch (f.type) {
      case 'welcome':
        this.token = f.token;
        try { localStorage.setItem(KEY, this.token); } catch { /* storage blocked: the loader keeps a copy */ }
        this.toParent({ type: 'fd:token', token: this.token });
        this.sneakPeek = f.sneak_peek;
        this.routing = { open: f.open, offline: f.offline, departments: f.departments, default_department: f.default_department };
        this.prechatForms = f.prechat ?? {};
        this.known = f.known ?? null;
        if (this.listsWanted) this.loadLists();
        if (f.conversation && f.conversation.id !== this.conversation?.id) this.messages = [];
        this.conversation = f.conversation;
        if (f.conversation) {
          this.receipts = { delivered: f.conversation.agent_delivered_seq, read: f.conversation.agent_read_seq };
          this.seenSeq = Math.max(this.seenSeq, f.conversation.visitor_read_seq ?? 0);
        }
        break;
      case 'message':
        this.add(f.conversation, [f]);
        break;
      case 'history':
        this.replay.push(...f.messages);
        if (!f.more) this.add(f.conversation, this.replay.splice(0));
        break;
      case 'ack':
        this.pending = this.pending.filter((p) => p.client_id !== f.client_id);
        this.invitation = null;
        this.prechatDone = this.askForm = false;
        if (!this.conversation || this.conversation.id !== f.conversation) this.conversation = { id: f.conversation, status: 'queued', agent_name: null };
        break;
      case 'status':
        this.conversation = { id: f.conversation, status: f.status, agent_name: f.status === 'active' ? f.agent_name : (this.conversation?.agent_name ?? null) };
        this.place = f.status === 'queued' ? { position: f.position, estimated_wait_s: f.estimated_wait_s, waited_s: f.waited_s, wait_notice_s: f.wait_notice_s, retention_s: f.retention_s, at: Date.now() } : null;
        if (f.status === 'ended') { this.confirmEnd = false; if (this.listsWanted) void this.loadEarlier(); }
        break;
      case 'typing':
        this.agentTyping = f.typing ? f.name : null;
        break;
      case 'invitation':
        if (!this.chatting) {
          this.invitation = { id: f.id, body: f.body, agent_name: f.agent_name };
          this.mode = 'chat';
          // The bubble needs the panel: fetched now, while the loader opens the frame.
          this.panelWanted();
          if (!this.isOpen) this.toParent({ type: 'fd:open' });
        }
        break;
      case 'receipt':
        this.takeReceipt({ conversation: f.conversation, delivered: f.delivered_seq, read: f.read_seq });
        break;
      case 'error':
        if (f.code === 'banned') {
          this.banned = true;
          this.toParent({ type: 'fd:hide' });
          break;
        }
        // Chat closed meanwhile (nobody accepting, hours, queue full): keep the words, offer the form.
        if (f.ref && f.code === 'prechat_required') {
          // The server wants answers the form did not give: back to the form, with why.
          this.pending = this.pending.filter((x) => x.client_id !== f.ref);
          this.prechatDone = false;
          this.prechatError = this.codeText(f.code, f.message);
          break;
        }
        if (f.ref && f.code === 'unavailable' && !this.chatting) {
          const p = this.pending.find((x) => x.client_id === f.ref);
          this.pending = this.pending.filter((x) => x.client_id !== f.ref);
          if (p) this.offline.message = p.body;
          this.mode = 'offline';
          break;
        }
        if (f.ref) this.pending = this.pending.map((p) => (p.client_id === f.ref ? { ...p, failed: this.codeText(f.code, f.message) } : p));
        else this.error = this.codeText(f.code, f.message);
        break;
    }
  }

  /** New messages of a conversation (one live message or a whole replay): one merge, one render. */
  add(conv: number, list: Msg[]) {
    if (this.conversation && conv !== this.conversation.id) { this.conversation = { id: conv, status: 'queued', agent_name: null }; this.messages = []; }
    this.messages = mergeAll(this.messages, list);
    this.pending = this.pending.filter((p) => !list.some((m) => m.client_id === p.client_id));
    if (list.some((m) => m.author.kind === 'agent')) this.agentTyping = null;
    if (!this.markRead()) {
      this.reportUnread();
      // W2 "sounds": one tone for a new agent line the visitor is not looking at.
      if (this.look?.sounds && list.length === 1 && list[0].author.kind === 'agent') beep();
    }
  }

  /** Agent messages the visitor has not seen yet, for the launcher's badge. */
  reportUnread() {
    this.setUnread(this.messages.filter((m) => m.author.kind === 'agent' && m.seq > this.seenSeq).length);
  }

  async loadEarlier() {
    const items = await this.visitorItems<WidgetCore['earlier'][number]>('/api/v1/widget/chats');
    if (items) this.earlier = items;
  }

  async loadTickets() {
    const items = await this.visitorItems<WidgetCore['tickets'][number]>('/api/v1/widget/tickets');
    if (items) this.tickets = items;
  }

  /** A list of this visitor's (`{ items }` with their token); null when it cannot be had now: shown next time. */
  private async visitorItems<T>(path: string): Promise<T[] | null> {
    if (!this.token) return null;
    try {
      const r = await fetch(path, { headers: { 'X-Visitor-Token': this.token } });
      return r.ok ? ((await r.json()) as { items: T[] }).items : null;
    } catch {
      return null;
    }
  }

  sendOffline = async (e: Event) => {
    e.preventDefault();
    this.error = '';
    const o = this.offline;
    const r = await fetch('/api/v1/widget/offline', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Visitor-Token': this.token },
      body: JSON.stringify({ message: o.message, ...(o.name ? { name: o.name } : {}), ...(o.email ? { email: o.email } : {}) }),
    }).catch(() => null);
    if (r?.ok) {
      this.mode = 'sent';
      this.offline.message = '';
      this.loadTickets();
    } else {
      this.error = r ? this.errorOf(await parseError(r)) : this.t('offline_connection');
    }
  };

  /** The visitor declines the invitation (its bubble's button, or closing the widget). */
  closeInvitation = () => {
    if (this.invitation) this.socket.send({ type: 'invitation_close', invitation: this.invitation.id });
    this.invitation = null;
  };

  endChat = () => {
    this.confirmEnd = false;
    this.socket.send({ type: 'end' });
  };

  /** The retention offer: the visitor stops waiting; what they wrote goes with the message. */
  leaveQueue = (to: 'offline' | 'sent') => {
    if (to === 'offline') this.offline.message = this.messages.filter((m) => m.author.kind === 'visitor').map((m) => m.body).join('\n');
    this.socket.send({ type: 'end' });
    this.place = null;
    this.mode = to;
  };

  /** Seen: tell the server and clear the badge (only while the widget is open and visible). */
  markRead = (): boolean => {
    if (!this.isOpen || document.visibilityState !== 'visible') return false;
    if (this.lastSeq() > this.seenSeq) {
      this.socket.send({ type: 'read', seq: this.lastSeq() });
      this.seenSeq = this.lastSeq();
    }
    this.setUnread(0);
    return true;
  };

  send = (e?: Event) => {
    e?.preventDefault();
    if (this.formNeeded) {
      this.askForm = true;
      return;
    }
    const body = this.text.trim();
    if (!body) return;
    this.text = '';
    this.showEmoji = false;
    this.queueMessage(body);
    this.socket.send({ type: 'typing', typing: false });
  };

  queueMessage(body: string, attachment?: Attachment, prechat?: PrechatAnswers) {
    const client_id = newClientId();
    this.pending = [...this.pending, { client_id, body, attachment }];
    const dept = !this.chatting && this.department !== null ? { department: this.department } : {};
    const invited = !this.chatting && this.invitation ? { invitation: this.invitation.id } : {};
    this.socket.sendMessage({ type: 'message', client_id, body, ...(attachment ? { attachment: attachment.token } : {}), ...dept, ...invited, ...(prechat ? { prechat } : {}) });
  }

  startChat = (answers: PrechatAnswers, body: string) => {
    this.prechatError = '';
    this.prechatDone = true;
    this.queueMessage(body, undefined, answers);
  };

  /** Apply settings: colours and texts here, the launcher's look in the host page (loader). */
  applyLook(a: ResolvedAppearance) {
    this.look = a;
    const l = a.lang as Locale;
    if (l !== this.locale && ['en', 'ru', 'uk', 'pl'].includes(l)) this.useLocale(l);
    this.toParent({ type: 'fd:style', color: a.primary_color, text: a.text_color, position: a.position, x: a.offset_x, y: a.offset_y, label: a.texts.launcher });
    this.sendNames();
  }

  private unread = 0;

  /** The launcher's badge. */
  private setUnread(count: number) {
    this.toParent({ type: 'fd:unread', count });
    if (count !== this.unread) {
      this.unread = count;
      this.sendNames();
    }
  }

  /** The loader knows no words: the launcher's and the frame's accessible names come from here,
   *  in the visitor's language — the admin's launcher text when there is one (the name says
   *  what is seen), with the number of unread answers. */
  private sendNames() {
    const name = this.look?.texts.launcher || this.t('launcher');
    this.toParent({ type: 'fd:names', launcher: this.unread ? this.t('launcher_unread', { name, count: this.unread }) : name, frame: this.t('frame') });
  }

  retry = (p: Pending) => {
    this.pending = this.pending.filter((x) => x.client_id !== p.client_id);
    this.queueMessage(p.body, p.attachment);
  };

  onInput = () => {
    // Throttled typing frames; the draft travels only when the admin allows sneak peek.
    const now = Date.now();
    if (now - this.typingSent > 400) {
      this.typingSent = now;
      this.socket.send({ type: 'typing', typing: true, ...(this.sneakPeek ? { draft: this.text } : {}) });
    }
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.socket.send({ type: 'typing', typing: !!this.text, ...(this.sneakPeek ? { draft: this.text } : {}) }), 450);
  };

  pickFile = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file || !this.token) return;
    this.error = '';
    try {
      this.queueMessage('', await upload('/api/v1/widget/uploads', file, { 'X-Visitor-Token': this.token }));
    } catch (err) {
      this.error = this.t('upload_failed', { reason: err instanceof ApiError ? this.errorOf(err) : String(err) });
    }
  };

  /** System lines in the visitor's language; unknown events fall back to the stored text. */
  eventLine = (m: Msg): string => {
    const key = `ev_${m.event?.code}`;
    return isKey(key) ? this.t(key, { name: String(m.event?.name ?? ''), department: String(m.event?.department ?? '') }) : m.body;
  };

  errorOf(e: ApiError): string {
    return e.code === 'network' ? this.t('offline_connection') : this.codeText(e.code, e.message);
  }

  status = (m: Msg): string => {
    if (m.seq <= this.receipts.read) return this.t('read');
    if (m.seq <= this.receipts.delivered) return this.t('delivered');
    return this.t('sent');
  };

  time = (ms: number) => new Date(ms).toLocaleTimeString(this.locale, { hour: '2-digit', minute: '2-digit' });

  /** Settings, then the socket; the embedding page's messages. Returns the teardown. */
  start() {
    if (this.preview || this.isOpen) this.panelWanted();
    if (!this.preview) {
      // The shop's appearance for this site, in the visitor's language; then the socket (its
      // hello carries the language the widget speaks). Defaults when the settings don't come.
      const site = (() => { try { return new URL(this.page.url).origin; } catch { return ''; } })();
      fetch(`/api/v1/widget/settings?${new URLSearchParams({ site, lang: this.locale })}`)
        .then((r) => (r.ok ? r.json() : null))
        .then((a: ResolvedAppearance | null) => a && this.applyLook(a))
        .catch(() => {})
        .finally(() => this.socket.connect());
    }
    addEventListener('message', (e) => {
      // Only the embedding page (the loader, or the settings page in preview) may say where the
      // visitor is, open the widget or show unsaved settings.
      if (!fromWindow(e, window.parent, this.parentOrigin)) return;
      const d = e.data as { type?: string; url?: string; title?: string; department?: string | number | null; look?: ResolvedAppearance; sample?: Sample; focus?: boolean };
      if (this.preview) {
        if (d?.type === 'fd:preview' && d.look) {
          this.applyLook(d.look);
          this.sample = d.sample ?? null;
          this.mode = this.sample?.view === 'offline' ? 'offline' : 'chat';
        }
        return;
      }
      if (d?.type === 'fd:page' && d.url) {
        this.page = { url: d.url, title: d.title || '', referrer: '' };
        this.socket.send({ type: 'page', url: d.url, title: d.title || '' });
      } else if (d?.type === 'fd:warm') {
        // The visitor points at or focuses the launcher: the panel is fetched before the click.
        this.panelWanted();
      } else if (d?.type === 'fd:open') {
        this.isOpen = true;
        this.panelWanted();
        // `data-frontdesk-open="<id>"` / `frontdesk.open({department})` pre-sets the department.
        const id = Number(d.department);
        if (d.department != null && d.department !== '' && Number.isInteger(id) && !this.chatting) this.department = id;
        this.markRead();
        // Opened by the visitor (not restored after a reload): the keyboard focus comes along.
        if (d.focus) this.focusWanted++;
      } else if (d?.type === 'fd:closed') this.isOpen = false;
    });
    document.addEventListener('visibilitychange', this.markRead);
    if (this.preview) this.toParent({ type: 'fd:preview-ready' });
  }
}

/** A short tone for an agent's message the visitor is not looking at (W2 "sounds"). */
function beep() {
  try {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.08, ctx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.25);
    o.connect(g).connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.25);
    o.onended = () => ctx.close();
  } catch {
    // no audio here
  }
}
