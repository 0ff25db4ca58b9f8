// The security services the HTTP layer uses, built once by the composition root. When
// authentication is disabled (`auth.enabled: false`) the server gets none of them and
// every request is allowed.
import type { Principal } from '../core/identity.ts';
import type { IdentityStore } from '../metadata/identity-store.ts';
import type { AccessControl } from '../auth/access-control.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { TokenService } from '../auth/token-service.ts';
import type { OidcSignOn } from '../auth/oidc-sign-on.ts';

export interface SecurityServices {
  readonly identity: IdentityStore;
  readonly access: AccessControl;
  readonly authenticator: Authenticator;
  readonly tokens: TokenService;
  /** The token service name: the challenge's `service` and the tokens' audience. */
  readonly service: string;
  /** External base URL for the realm; derived from the request when absent. */
  readonly publicUrl?: string | undefined;
  readonly refreshTokenLifetimeMs: number;
  /** Single sign-on to the web catalog (oidc.issuer), when configured. */
  readonly oidc?: OidcSignOn | undefined;
}

export type { Principal };
