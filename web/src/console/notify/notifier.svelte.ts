// The console-wide notification layer (issue 14): whatever page the agent is on, a new chat
// (waiting in the queue or routed to them) and a new message in one of their chats raise a
// popup (NotifyLayer.svelte, mounted in the shell), a chime, a flashing tab title, and a
// desktop notification while the tab is hidden — each as the agent's own settings say
// (GET/PUT /api/v1/me/notifications). The chat store reports events; this file decides how
// loudly to tell.
import { api } from '../../shared/api';
import type { Conversation } from '../../shared/protocol';

export interface NotifyPrefs {
  sound: boolean;
  new_chat: boolean;
  new_message: boolean;
  desktop: boolean;
}

export type AlertKind = 'queued' | 'assigned' | 'message';

export interface Alert {
  kind: AlertKind;
  conversation: number;
  /** The visitor's name (or "Visitor #n"). */
  who: string;
  preview: string;
}

export const DEFAULT_PREFS: NotifyPrefs = { sound: true, new_chat: true, new_message: true, desktop: true };

/** Tab-title flash period. A UI timer, not a data poll: it runs only while an alert is open. */
const FLASH_MS = 1000;

class Notifier {
  prefs = $state<NotifyPrefs>({ ...DEFAULT_PREFS });
  alerts = $state<Alert[]>([]);
  /** The settings came from the server (the Profile page shows them only then). */
  loaded = $state(false);
  private flashTimer: ReturnType<typeof setInterval> | null = null;
  private baseTitle = '';
  /** Text for the flashing title (set by the layer, which knows the language). */
  titleText: (count: number) => string = (n) => `(${n})`;

  async load(): Promise<void> {
    try {
      this.prefs = await api.get<NotifyPrefs>('/api/v1/me/notifications');
      this.loaded = true;
    } catch {
      // Tokens have no settings; a failed load keeps the defaults (everything on).
    }
  }

  async save(prefs: NotifyPrefs): Promise<void> {
    this.prefs = await api.put<NotifyPrefs>('/api/v1/me/notifications', prefs);
    if (prefs.desktop) askPermission();
  }

  /** Something happened; `desktop` is the notification's title and body. */
  raise(alert: Alert, desktopTitle: string): void {
    const wanted = alert.kind === 'message' ? this.prefs.new_message : this.prefs.new_chat;
    if (!wanted) return;
    // A message in a chat whose "new chat" popup is still open only updates that popup.
    const open = this.alerts.find((x) => x.conversation === alert.conversation && x.kind !== 'message');
    if (alert.kind === 'message' && open) {
      open.preview = alert.preview;
      return;
    }
    // One alert per chat and kind: a newer one replaces it.
    this.alerts = [...this.alerts.filter((a) => !(a.conversation === alert.conversation && a.kind === alert.kind)), alert];
    if (this.prefs.sound) chime();
    if (this.prefs.desktop) desktop(desktopTitle, alert.preview, alert.conversation);
    this.updateTitle();
  }

  /** The chat was accepted, opened, ended or left the queue: its alerts are done. */
  clear(conversation: number, kinds: AlertKind[] = ['queued', 'assigned', 'message']): void {
    const left = this.alerts.filter((a) => !(a.conversation === conversation && kinds.includes(a.kind)));
    if (left.length !== this.alerts.length) this.alerts = left;
    this.updateTitle();
  }

  dismiss(alert: Alert): void {
    this.clear(alert.conversation, [alert.kind]);
  }

  reset(): void {
    this.alerts = [];
    this.loaded = false;
    this.updateTitle();
  }

  private updateTitle(): void {
    if (typeof document === 'undefined') return;
    if (this.alerts.length && !this.flashTimer) {
      this.baseTitle = document.title;
      let on = false;
      const tick = () => {
        on = !on;
        document.title = on ? `${this.titleText(this.alerts.length)} · ${this.baseTitle}` : this.baseTitle;
      };
      tick();
      this.flashTimer = setInterval(tick, FLASH_MS);
    } else if (!this.alerts.length && this.flashTimer) {
      clearInterval(this.flashTimer);
      this.flashTimer = null;
      document.title = this.baseTitle;
    }
  }
}

export const notifier = new Notifier();

/** Called when a desktop notification is clicked (the layer opens the chat). */
export const onDesktopClick: { handler: (conversation: number) => void } = { handler: () => {} };

/** A short two-tone chime made on the spot (no sound file to fetch). */
let lastChime = 0;

export function chime(): void {
  // One tone per burst: a visitor pasting ten lines, or a reconnect bringing many, is one alert
  // to the ear (and one audio context, which browsers limit), not ten overlapping ones.
  const now = Date.now();
  if (now - lastChime < 1000) return;
  lastChime = now;
  try {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.connect(g);
    g.connect(ctx.destination);
    o.frequency.setValueAtTime(880, ctx.currentTime);
    o.frequency.setValueAtTime(660, ctx.currentTime + 0.12);
    g.gain.setValueAtTime(0.15, ctx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.35);
    o.start();
    o.stop(ctx.currentTime + 0.35);
    o.onended = () => void ctx.close();
  } catch {
    // no audio available
  }
}

function desktop(title: string, body: string, conversation: number): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || document.visibilityState === 'visible') return;
  try {
    const n = new Notification(title, { body, tag: `frontdesk-${conversation}` });
    n.onclick = () => {
      window.focus();
      onDesktopClick.handler(conversation);
      n.close();
    };
  } catch {
    // some browsers only allow notifications from a service worker
  }
}

/** Ask for desktop notifications (browsers allow it only after a click). */
export function askPermission(): void {
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission();
}

export function label(c: Conversation, fallback: string): string {
  return c.visitor.name || c.visitor.email || fallback;
}
