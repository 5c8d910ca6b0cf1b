// Shapes of the ticket API (docs/api.md "Tickets") and the list filters, in plain TypeScript so
// the unit tests can run the conversions.
import type { Attachment } from '../../shared/api';
import type { SystemEvent } from '../../shared/protocol';

export const STATUSES = ['open', 'pending', 'solved', 'spam'] as const;
export type Status = (typeof STATUSES)[number];
/** How a ticket came in (tickets.source.* in the dictionaries). */
export type Source = 'manual' | 'chat' | 'offline' | 'email' | 'api' | 'callback';
export type Kind = 'customer' | 'reply' | 'note' | 'transcript' | 'system';

export interface ContactRef {
  id: number;
  name: string | null;
  email: string | null;
}

export interface Ticket {
  number: number;
  subject: string;
  status: Status;
  source: Source;
  department_id: number | null;
  department_name: string | null;
  agent_id: number | null;
  agent_name: string | null;
  contact: ContactRef | null;
  conversation_id: number | null;
  merged_into: number | null;
  snoozed_until: number | null;
  created_at: number;
  updated_at: number;
  solved_at: number | null;
  last_customer_message_at: number | null;
  tags: string[];
}

export interface ThreadMessage {
  id: number;
  kind: Kind;
  agent_id: number | null;
  agent_name: string | null;
  body: string;
  body_html: string | null;
  subject: string | null;
  to: string[];
  cc: string[];
  message_id: string | null;
  created_at: number;
  attachments: Attachment[];
  /** System lines: what happened, for eventText() to say in the agent's language. */
  event?: SystemEvent;
  /** The reply's email (src/mail/mod.rs `Delivery`); null for messages that were not mailed. */
  delivery?: Delivery | null;
}

export interface Delivery {
  outbox_id: number;
  state: 'queued' | 'sending' | 'sent' | 'failed';
  /** When it was sent (state sent). */
  at: number | null;
  attempts: number;
  /** The last failure in plain words (a queued mail with an error waits for its next try). */
  error: string | null;
  next_attempt_at: number | null;
}

/** A change's answer when the change took the ticket out of the caller's sight. */
export interface MovedAway {
  number: number;
  visible: false;
}

export interface TicketView extends Ticket {
  messages: ThreadMessage[];
  other_tickets: Ticket[];
  reply_draft: string | null;
  /** Only in the answer to a reply: null when no mail was queued (no recipient). */
  outbox_id?: number | null;
}

export interface Counts {
  open: number;
  pending: number;
  snoozed: number;
  solved: number;
  spam: number;
  mine_open: number;
  unassigned_open: number;
}

/** A saved view's filters as the server stores them ("me" already resolved to an id). */
export interface StoredFilter {
  status?: string | null;
  department_id?: number | null;
  agent_id?: number | null;
  unassigned?: boolean;
  tag?: string | null;
  contact_id?: number | null;
  customer?: string | null;
  q?: string | null;
  from?: number | null;
  to?: number | null;
  only_snoozed?: boolean;
}

export interface SavedView {
  id: number;
  name: string;
  filters: StoredFilter;
  count: number;
}

export interface Department {
  id: number;
  name: string;
  visible: boolean;
}

/** The filter bar, as form values (strings, dates as yyyy-mm-dd in the agent's time zone). */
export interface Filters {
  status: '' | Status;
  department_id: string;
  /** '' (anyone), 'me', 'none' (unassigned) or an agent id. */
  agent: string;
  tag: string;
  customer: string;
  q: string;
  from: string;
  to: string;
  contact_id: string;
  /** '1': only snoozed tickets (a string so every field compares the same way). */
  snoozed: '' | '1';
}

export const emptyFilters = (): Filters => ({ status: '', department_id: '', agent: '', tag: '', customer: '', q: '', from: '', to: '', contact_id: '', snoozed: '' });

const DAY = (d: string, plusDays = 0): number | undefined => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).getTime() : undefined;
};

const dateInput = (ms: number): string => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
};

/** The list query for GET /api/v1/tickets and POST /api/v1/views. `to` includes its whole day. */
export function filtersToQuery(f: Filters): Record<string, string | number | undefined> {
  return {
    status: f.status || undefined,
    department_id: f.department_id ? Number(f.department_id) : undefined,
    agent: f.agent || undefined,
    tag: f.tag.trim() || undefined,
    customer: f.customer.trim() || undefined,
    q: f.q.trim() || undefined,
    from: DAY(f.from),
    to: DAY(f.to, 1),
    contact_id: f.contact_id ? Number(f.contact_id) : undefined,
    snoozed: f.snoozed ? 'true' : undefined,
  };
}

/** A saved view back into the filter bar, so the agent sees what the view shows. */
export function storedToFilters(s: StoredFilter, myId: number | undefined): Filters {
  const agent = s.unassigned ? 'none' : s.agent_id == null ? '' : s.agent_id === myId ? 'me' : String(s.agent_id);
  return {
    status: (STATUSES as readonly string[]).includes(s.status ?? '') ? (s.status as Status) : '',
    department_id: s.department_id == null ? '' : String(s.department_id),
    agent,
    tag: s.tag ?? '',
    customer: s.customer ?? '',
    q: s.q ?? '',
    from: s.from == null ? '' : dateInput(s.from),
    to: s.to == null ? '' : dateInput(s.to - 1),
    contact_id: s.contact_id == null ? '' : String(s.contact_id),
    snoozed: s.only_snoozed ? '1' : '',
  };
}

export function sameFilters(a: Filters, b: Filters): boolean {
  return (Object.keys(a) as (keyof Filters)[]).every((k) => a[k].trim() === b[k].trim());
}

/** The built-in views of the left column, with the counter each one shows. */
export const BUILTIN_VIEWS = [
  { key: 'mine', filters: { agent: 'me', status: 'open' }, count: 'mine_open' },
  { key: 'unassigned', filters: { agent: 'none', status: 'open' }, count: 'unassigned_open' },
  { key: 'open', filters: { status: 'open' }, count: 'open' },
  { key: 'pending', filters: { status: 'pending' }, count: 'pending' },
  { key: 'snoozed', filters: { status: 'pending', snoozed: '1' }, count: 'snoozed' },
  { key: 'solved', filters: { status: 'solved' }, count: 'solved' },
  { key: 'spam', filters: { status: 'spam' }, count: 'spam' },
] as const satisfies readonly { key: string; filters: Partial<Filters>; count: keyof Counts }[];

export type BuiltinKey = (typeof BUILTIN_VIEWS)[number]['key'];

export const builtinFilters = (key: BuiltinKey): Filters => ({ ...emptyFilters(), ...BUILTIN_VIEWS.find((v) => v.key === key)!.filters });

/** "Ana <ana@x.pl>, bob@y.com" or "a@x.pl; b@y.pl" → addresses. */
export function parseAddresses(s: string): string[] {
  return s
    .split(/[,;\s]+/)
    .map((a) => a.trim().replace(/^<|>$/g, ''))
    .filter((a) => a.includes('@'));
}

/** A `datetime-local` value in the agent's zone → ms. */
export function localDateTime(v: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v);
  return m ? new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]).getTime() : null;
}

/** "2 kB", "2 КБ", … in the agent's language (Intl knows the unit names, no dictionary needed). */
export function fileSize(n: number, locale: string): string {
  const [value, unit] = n < 1024 ? [n, 'byte'] : n < 1024 * 1024 ? [n / 1024, 'kilobyte'] : [n / 1024 / 1024, 'megabyte'];
  // Bytes spelled out ("83 bytes", "83 байта"): the short form is "83 byte" in English.
  const unitDisplay = unit === 'byte' ? 'long' : 'short';
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay, maximumFractionDigits: unit === 'megabyte' ? 1 : 0 }).format(value as number);
}
