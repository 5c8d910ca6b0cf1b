// How the widget iframe and the page embedding it trust each other's postMessage (finding
// 16b): the loader passes its page's origin in the iframe URL (`o`); the widget posts only to
// that origin (never `*`: the visitor token travels this way) and takes messages only from its
// parent window at that origin. The loader, in turn, takes messages only from the iframe's
// window at the widget's origin (src/loader/loader.ts).

/** The embedding page's origin: the loader's `o` (an http(s) origin), unless the referrer names
 *  another one. '' when unknown — then the widget posts nothing and accepts nothing. */
export function embedderOrigin(o: string, referrer: string): string {
  // `document.referrer` is an absolute URL or empty.
  const ref = referrer && new URL(referrer).origin;
  return /^https?:\/\/[^/]+$/.test(o) && (!ref || ref === o) ? o : '';
}

/** Whether a message event comes from window `from` at `origin`. */
export const fromWindow = (e: Pick<MessageEvent, 'source' | 'origin'>, from: unknown, origin: string) => !!origin && e.source === from && e.origin === origin;
