// Small pieces every settings-like page shares: the CSRF field, a submit button, an alert.
import { html, type Html } from '../html.ts';

export function csrf(token: string): Html {
  return html`<input type="hidden" name="csrf" value="${token}">`;
}

export function button(text: string, kind: 'primary' | 'secondary' | 'danger' = 'primary', label?: string, small = false): Html {
  return html`<button class="pf-v6-c-button pf-m-${kind}${small ? ' pf-m-small' : ''}" type="submit"${label ? html` aria-label="${label}"` : ''}><span class="pf-v6-c-button__text">${text}</span></button>`;
}

export function alert(kind: 'success' | 'danger' | 'info', title: string, body?: Html): Html {
  return html`<div class="pf-v6-c-alert pf-m-${kind} pf-m-inline" role="${kind === 'danger' ? 'alert' : 'status'}"><p class="pf-v6-c-alert__title">${title}</p>${body ? html`<div class="pf-v6-c-alert__description">${body}</div>` : ''}</div>`;
}

export function label(text: string, color?: 'blue' | 'orange' | 'red' | 'green' | 'purple', title?: string): Html {
  return html`<span class="pf-v6-c-label${color ? ` pf-m-${color}` : ''}"${title ? html` title="${title}"` : ''}><span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">${text}</span></span></span>`;
}

/** A domain error's message for the page; anything else is not ours to show. */
export function problemOf(error: unknown): string {
  if ((error as { code?: unknown }).code !== undefined && error instanceof Error) return error.message;
  throw error;
}
