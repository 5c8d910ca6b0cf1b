// One admin settings form's round trip — read on open, PATCH on save — so every form says the
// same things the same way: the server's error in the reader's language, and "Saved" only once
// the server answered with what it stored (never before, never after a refusal).
import { api } from '../shared/api';
import { errorText } from './state.svelte';

export class SettingsForm<T> {
  /** What the server stored, to edit; null until it loaded (or when loading failed). */
  value = $state<T | null>(null);
  error = $state('');
  saved = $state(false);

  constructor(private readonly path: string) {}

  /** Read the settings (and whatever else the form needs first, `before`). */
  async load(before?: () => Promise<void>): Promise<void> {
    this.error = '';
    try {
      await before?.();
      this.value = await api.get<T>(this.path);
    } catch (e) {
      this.error = errorText(e);
    }
  }

  /** Store `body`; the form then shows what the server stored. */
  async save(body: unknown): Promise<void> {
    this.error = '';
    this.saved = false;
    try {
      this.value = await api.patch<T>(this.path, body);
      this.saved = true;
    } catch (e) {
      this.error = errorText(e);
    }
  }
}
