// /widget.js — the only code that runs in the host page. It draws the launcher, hosts the
// widget in an iframe from our origin (never in the host page's DOM), reports page views,
// and keeps a fallback copy of the visitor token in the host site's own storage for browsers
// that partition or block storage inside third-party iframes.
interface FrontdeskApi {
  open(opts?: { department?: string | number }): void;
  close(): void;
}
declare global {
  interface Window {
    frontdesk?: FrontdeskApi & { loaded?: boolean };
    /** The shop's signed customer (W12): `{id, name?, email?, ts, sig}`, set before this script. */
    frontdeskIdentity?: object;
  }
}

(() => {
  if (window.frontdesk?.loaded) return;
  const script = document.currentScript as HTMLScriptElement | null;
  const origin = new URL(script?.src || '/', location.href).origin;
  const hideLauncher = script?.dataset.launcher === 'hidden';
  const KEY = 'frontdesk_visitor';
  const store = {
    get: () => { try { return localStorage.getItem(KEY) || ''; } catch { return ''; } },
    set: (v: string) => { try { localStorage.setItem(KEY, v); } catch { /* blocked */ } },
  };
  // Open or closed, for this tab: a reload or the next page of the site restores it.
  const OPEN = 'frontdesk_open';
  const remember = (open: boolean) => { try { if (open) sessionStorage.setItem(OPEN, '1'); else sessionStorage.removeItem(OPEN); } catch { /* blocked */ } };
  const wasOpen = () => { try { return sessionStorage.getItem(OPEN) === '1'; } catch { return false; } };

  const css = (el: HTMLElement, s: Record<string, string>) => Object.assign(el.style, s);
  const mobile = () => innerWidth < 480;

  const frame = document.createElement('iframe');
  // `o`: this page's origin, the one window the widget will talk to.
  const params = new URLSearchParams({ t: store.get(), u: location.href, ti: document.title, r: document.referrer, l: navigator.language || '', o: location.origin });
  // Only the widget reads it, and only the server trusts it (after checking its signature).
  if (window.frontdeskIdentity) params.set('id', JSON.stringify(window.frontdeskIdentity));
  frame.src = `${origin}/widget#${params}`;
  frame.title = 'Chat';
  frame.setAttribute('allow', 'clipboard-write');
  css(frame, { position: 'fixed', border: '0', zIndex: '2147483000', display: 'none', background: 'transparent', colorScheme: 'normal' });

  const button = document.createElement('button');
  button.type = 'button';
  button.setAttribute('aria-label', 'Chat');
  // An inline SVG, not an emoji: without an emoji font that would be an empty box.
  // Built with DOM calls (no markup, no style attribute: a host page's CSP may forbid inline styles).
  const SVG = 'http://www.w3.org/2000/svg';
  const icon = document.createElementNS(SVG, 'svg');
  const path = document.createElementNS(SVG, 'path');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '28', height: '28', fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false' })) icon.setAttribute(k, v);
  path.setAttribute('d', 'M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z');
  icon.appendChild(path);
  css(icon as unknown as HTMLElement, { display: 'block', margin: 'auto' });
  button.appendChild(icon);
  let label: HTMLSpanElement | undefined;
  css(button, { position: 'fixed', right: '20px', bottom: '20px', width: '60px', height: '60px', borderRadius: '50%', border: '0', background: '#2563eb', color: '#fff', fontSize: '28px', cursor: 'pointer', boxShadow: '0 4px 14px rgba(0,0,0,.25)', zIndex: '2147483000', display: hideLauncher ? 'none' : 'block' });
  const badge = document.createElement('span');
  css(badge, { position: 'absolute', top: '-4px', right: '-4px', minWidth: '20px', height: '20px', borderRadius: '10px', background: '#dc2626', color: '#fff', font: 'bold 12px/20px sans-serif', display: 'none' });
  button.appendChild(badge);

  const post = (msg: object) => frame.contentWindow?.postMessage(msg, origin);
  // The department of the last open, re-sent when the frame (re)loads while open.
  let dept: string | number | null = null;
  frame.addEventListener('load', () => frame.style.display === 'block' && post({ type: 'fd:open', department: dept }));
  // The admin's appearance (W2), sent by the widget once it has it: side and offsets.
  let side = 'right';
  let x = 20;
  let y = 20;
  const show = (focus: boolean) => {
    place();
    frame.style.display = 'block';
    button.style.display = 'none';
    remember(true);
    // Opened by the visitor: the keyboard focus moves into the chat (not on a restore).
    if (focus) frame.focus();
    post({ type: 'fd:open', department: dept, focus });
  };
  const place = () => {
    const m = mobile();
    css(frame, m ? { inset: '0', width: '100%', height: '100%', left: '0', right: '0', bottom: '0' } : { inset: 'auto', [side]: `${x}px`, bottom: `${y}px`, width: '370px', height: `min(600px, calc(100% - ${2 * y}px))`, borderRadius: '12px', boxShadow: '0 8px 30px rgba(0,0,0,.25)' });
  };

  const api: FrontdeskApi & { loaded: boolean } = {
    loaded: true,
    open(opts) {
      dept = opts?.department ?? null;
      show(true);
    },
    close() {
      const hadFocus = document.activeElement === frame;
      frame.style.display = 'none';
      remember(false);
      if (!hideLauncher) {
        button.style.display = 'block';
        // Focus goes back where the visitor opened the chat from.
        if (hadFocus) button.focus();
      }
      post({ type: 'fd:closed' });
    },
  };
  window.frontdesk = api;

  button.addEventListener('click', () => api.open());
  // About to be opened: the widget fetches its panel now, so opening shows it at once.
  for (const ev of ['pointerenter', 'focus', 'touchstart']) button.addEventListener(ev, () => post({ type: 'fd:warm' }), { passive: true });
  document.addEventListener('click', (e) => {
    const el = (e.target as Element | null)?.closest?.('[data-frontdesk-open]') as HTMLElement | null;
    if (el) {
      e.preventDefault();
      api.open({ department: el.dataset.frontdeskOpen || undefined });
    }
  });
  addEventListener('message', (e) => {
    if (e.origin !== origin || e.source !== frame.contentWindow || typeof e.data !== 'object' || !e.data) return;
    const d = e.data as { type?: string; token?: string; count?: number; launcher?: string; frame?: string };
    if (d.type === 'fd:token' && typeof d.token === 'string') store.set(d.token);
    else if (d.type === 'fd:close') api.close();
    // Chat is closed and the admin chose to hide the widget then (W6, W7).
    else if (d.type === 'fd:hide') frame.style.display = button.style.display = 'none';
    else if (d.type === 'fd:open') api.open();
    else if (d.type === 'fd:style') {
      const st = d as { color?: string; text?: string; position?: string; x?: number; y?: number; label?: string };
      side = st.position === 'left' ? 'left' : 'right';
      x = Number(st.x) || 0;
      y = Number(st.y) || 0;
      css(button, { left: 'auto', right: 'auto', [side]: `${x}px`, bottom: `${y}px`, background: String(st.color), color: String(st.text) });
      if (st.label) {
        // The admin's launcher text next to the icon (the icon stays: it is the button's shape).
        if (!label) button.appendChild((label = document.createElement('span')));
        label.textContent = st.label;
        css(icon as unknown as HTMLElement, { display: 'inline-block', margin: '0 8px 0 0', verticalAlign: 'middle' });
        css(button, { width: 'auto', borderRadius: '30px', padding: '0 20px', fontSize: '16px' });
      }
      if (frame.style.display === 'block') place();
    }
    else if (d.type === 'fd:unread') {
      badge.textContent = String(d.count || '');
      badge.style.display = d.count ? 'block' : 'none';
    }
    // The accessible names in the visitor's language (the widget has the words).
    else if (d.type === 'fd:names' && typeof d.launcher === 'string' && typeof d.frame === 'string') {
      button.setAttribute('aria-label', d.launcher);
      frame.title = d.frame;
    }
  });
  // Single-page sites change pages without reloading: report those navigations too.
  const report = () => post({ type: 'fd:page', url: location.href, title: document.title });
  for (const m of ['pushState', 'replaceState'] as const) {
    const orig = history[m];
    history[m] = function (this: History, ...args: Parameters<History['pushState']>) {
      const r = orig.apply(this, args);
      setTimeout(report);
      return r;
    };
  }
  addEventListener('popstate', report);
  addEventListener('resize', () => frame.style.display === 'block' && place());

  const mountAll = () => {
    document.body.appendChild(frame);
    document.body.appendChild(button);
    if (wasOpen()) show(false);
  };
  if (document.body) mountAll();
  else addEventListener('DOMContentLoaded', mountAll);
})();

export {};
