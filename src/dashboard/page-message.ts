import { ApiError } from './analytics-api.js';

/** What a page tells instead of its numbers: an error of the server, or that nothing is there. */
export type MessageKind = 'error' | 'empty';

/**
 * Shows `text` in a page's message line (`data-kind` says which, `data-code` the server's
 * error code), or hides it with ''. A page never goes blank: it says why.
 */
export function showMessage(element: HTMLElement, text: string, kind: MessageKind = 'empty'): void {
  element.textContent = text;
  element.hidden = text === '';
  element.dataset.kind = kind;
  delete element.dataset.code;
}

/** An API refusal in words, with a hint for the usual one (a key without the page's scope). */
export function showError(element: HTMLElement, err: unknown, scope = 'read'): void {
  const code = err instanceof ApiError ? err.code : 'NETWORK';
  const message = (err as Error).message;
  const hint = code === 'FORBIDDEN' ? `. This page needs a key with the ${scope} scope.` : '';
  showMessage(element, `${message}${hint}`, 'error');
  element.dataset.code = code;
}
