// In-app dialogs instead of the browser's prompt()/confirm()/alert(): one request at a time,
// shown by <DialogHost> (mounted once in the shell) as a modal <dialog> — the rest of the page
// is inert while it is open (focus stays inside), Escape cancels, and focus returns to the
// control that opened it.

export interface ConfirmRequest {
  kind: 'confirm';
  title: string;
  message?: string;
  confirmLabel: string;
  danger?: boolean;
}

export interface PromptRequest {
  kind: 'prompt';
  title: string;
  message?: string;
  label: string;
  value?: string;
  /** `password` for secrets: never shown in clear text. */
  inputType?: 'text' | 'password';
  minlength?: number;
  maxlength?: number;
  autocomplete?: 'off' | 'new-password' | 'current-password';
  confirmLabel: string;
}

export type DialogRequest = ConfirmRequest | PromptRequest;

interface Pending {
  request: DialogRequest;
  resolve: (value: string | null) => void;
}

export const dialogs = $state({ current: null as Pending | null });

function open(request: DialogRequest): Promise<string | null> {
  // A second request while one is open cancels the first (one modal at a time).
  dialogs.current?.resolve(null);
  return new Promise((resolve) => {
    dialogs.current = { request, resolve };
  });
}

/** Ask a yes/no question; true only when the person confirmed. */
export async function ask(request: Omit<ConfirmRequest, 'kind'>): Promise<boolean> {
  return (await open({ kind: 'confirm', ...request })) !== null;
}

/** Ask for one value; null when cancelled. */
export function askValue(request: Omit<PromptRequest, 'kind'>): Promise<string | null> {
  return open({ kind: 'prompt', ...request });
}

/** Called by the host when the dialog closes. */
export function settle(value: string | null): void {
  const p = dialogs.current;
  dialogs.current = null;
  p?.resolve(value);
}
