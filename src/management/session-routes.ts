// The management API's session routes (part of MANAGEMENT_ROUTES in routes.ts): list, end
// all, end one, from three places: your own (/user), a user's (/users/{name}) and a
// robot's (/robots/{robot}).
import type { ManagementRoute, RouteContext } from './routes.ts';
import type { SessionOwner } from './session-service.ts';

export function sessionRoutes(base: string, whose: string, allowed: string, owner: (context: RouteContext) => SessionOwner, suffix: string): ManagementRoute[] {
  const tag = 'sessions';
  return [
    {
      operationId: `list${suffix}Sessions`,
      method: 'GET',
      path: `${base}/sessions`,
      tag,
      summary: `${whose[0]!.toUpperCase()}${whose.slice(1)} login sessions, the refresh tokens docker, podman and skopeo keep: client, address, what the login used (${allowed})`,
      auth: true,
      status: 200,
      response: '[Session]',
      handle: (s, c) => s.sessions.list(c.caller, owner(c)),
    },
    {
      operationId: `revokeAll${suffix}Sessions`,
      method: 'DELETE',
      path: `${base}/sessions`,
      tag,
      summary: `End all ${whose} sessions (${allowed})`,
      auth: true,
      status: 200,
      response: 'RevokedSessions',
      handle: (s, c) => s.sessions.revokeAll(c.caller, owner(c)),
    },
    {
      operationId: `revoke${suffix}Session`,
      method: 'DELETE',
      path: `${base}/sessions/{id}`,
      tag,
      summary: `End one of ${whose} sessions: its refresh token stops working (${allowed})`,
      auth: true,
      status: 204,
      handle: (s, c) => s.sessions.revoke(c.caller, owner(c), Number(c.params.id)),
    },
  ];
}
