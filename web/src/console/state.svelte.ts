// Console-wide state: who is signed in, the UI language, the current route.
import { api, ApiError } from '../shared/api';
import { detectLocale, isLocale, translate, type Locale } from '../shared/i18n';
import { dicts, isKey, type Key } from './locales/index';
import type { AgentStatus, SystemEvent } from '../shared/protocol';

export type Role = 'agent' | 'supervisor' | 'admin';

export interface Agent {
  id: number;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  locale: string;
  chat_limit: number;
  department_ids: number[];
  created_at: number;
  /** Signs in with a second factor. */
  totp_enabled: boolean;
  /** accepting / not_accepting / offline (routing). */
  status: AgentStatus;
  /** Only on /api/v1/me: the admin requires a second factor of this agent. */
  totp_required?: boolean;
  /** Only on /api/v1/me: gets the daily summary mail (off: opted out). */
  daily_summary?: boolean;
}

/** A two-factor enrolment: the secret, its otpauth:// URI, and that URI as an SVG QR code. */
export interface Enrolment {
  secret: string;
  uri: string;
  qr_svg: string;
}

function storedLocale(): Locale {
  try {
    const s = localStorage.getItem('frontdesk.locale');
    if (isLocale(s)) return s;
  } catch {
    // storage blocked
  }
  return detectLocale(typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language]);
}

export const ui = $state({
  locale: storedLocale(),
  me: null as Agent | null,
  path: typeof location === 'undefined' ? '/' : location.pathname,
  search: typeof location === 'undefined' ? '' : location.search,
  /** A one-line outcome shown on the next page (e.g. "moved out of your view"); cleared by the next navigation. */
  notice: '',
});

/** Only known keys compile; keys built at run time go through `isKey` first. */
export function t(key: Key, params?: Record<string, string | number>): string {
  return translate(dicts, ui.locale, key, params);
}

export async function setLocale(l: Locale, persist = true): Promise<void> {
  ui.locale = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem('frontdesk.locale', l);
  } catch {
    // storage blocked: the choice lasts for this page
  }
  if (persist && ui.me) ui.me = await api.patch<Agent>('/api/v1/me', { locale: l });
}

export function navigate(to: string, replace = false): void {
  const url = new URL(to, location.origin);
  if (replace) history.replaceState({}, '', url);
  else history.pushState({}, '', url);
  ui.path = url.pathname;
  ui.search = url.search;
  ui.notice = '';
}

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', () => {
    ui.path = location.pathname;
    ui.search = location.search;
  });
}

/** A server error code (REST `{"error":{"code","message"}}` or a socket `error` frame) in the
 *  reader's language; the server's own (English) message only for codes we do not know. */
export function codeText(code: string, message: string): string {
  if (code === 'network') return t('common.network_error');
  const key = `error.${code}`;
  return isKey(key) ? t(key) : message;
}

/** What to show for a failed request. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return codeText(e.code, e.message);
  return String(e);
}

export { type SystemEvent };

/** A system line in the reader's language (the server stores an event next to English text). */
export function eventText(event: SystemEvent | null | undefined, fallback: string): string {
  if (!event) return fallback;
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(event)) if (typeof v === 'string' || typeof v === 'number') params[k] = v;
  const status = `tickets.status.${event.status}`;
  if (typeof event.status === 'string' && isKey(status)) params.status = t(status);
  const key = `event.${event.code}`;
  return isKey(key) ? t(key, params) : fallback;
}

export const isAdmin = () => ui.me?.role === 'admin';
export const isSupervisor = () => ui.me?.role === 'admin' || ui.me?.role === 'supervisor';

/** Dates as the agent's locale writes them. */
export function when(ms: number | null | undefined): string {
  if (!ms) return '';
  return new Date(ms).toLocaleString(ui.locale, { dateStyle: 'short', timeStyle: 'short' });
}

export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString(ui.locale, { hour: '2-digit', minute: '2-digit' });
}
