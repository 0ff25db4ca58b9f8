// The login form: local and LDAP users alike (the Authenticator decides which), and the
// single sign-on button when an OpenID Connect provider is configured.
import { html, type Html } from '../html.ts';

/** `sso`: the OIDC provider's display name, when single sign-on is configured. */
export function loginPage(csrfToken: string, next: string, error: string | null, username = '', sso?: string): Html {
  return html`<section class="pf-v6-c-card custody-narrow">
<div class="pf-v6-c-card__title"><h1 class="pf-v6-c-title pf-m-xl">Log in to Custody</h1></div>
<div class="pf-v6-c-card__body">
${error ? html`<div class="pf-v6-c-alert pf-m-danger pf-m-inline" role="alert"><p class="pf-v6-c-alert__title">${error}</p></div>` : ''}
<form class="pf-v6-c-form" method="post" action="/login">
  <input type="hidden" name="csrf" value="${csrfToken}">
  <input type="hidden" name="next" value="${next}">
  <div class="pf-v6-c-form__group"><div class="pf-v6-c-form__group-label"><label class="pf-v6-c-form__label" for="username"><span class="pf-v6-c-form__label-text">Username</span></label></div>
    <div class="pf-v6-c-form__group-control"><span class="pf-v6-c-form-control"><input id="username" name="username" autocomplete="username" required value="${username}"></span></div></div>
  <div class="pf-v6-c-form__group"><div class="pf-v6-c-form__group-label"><label class="pf-v6-c-form__label" for="password"><span class="pf-v6-c-form__label-text">Password</span></label></div>
    <div class="pf-v6-c-form__group-control"><span class="pf-v6-c-form-control"><input id="password" name="password" type="password" autocomplete="current-password" required></span></div></div>
  <div class="pf-v6-c-form__group pf-m-action"><div class="pf-v6-c-form__actions"><button class="pf-v6-c-button pf-m-primary" type="submit"><span class="pf-v6-c-button__text">Log in</span></button></div></div>
</form>
<p class="custody-muted">Local and directory (LDAP) accounts both work here.</p>
${sso === undefined ? '' : html`<p><a class="pf-v6-c-button pf-m-secondary" id="oidc-login" href="/login/oidc?next=${encodeURIComponent(next)}"><span class="pf-v6-c-button__text">Log in with ${sso}</span></a></p>`}
</div></section>`;
}
