// GET /api/v1/logs and /api/v1/logs/export (stub; implementation follows).
import type { ActionLog } from '../audit/action-log.ts';
import type { RouteMatch } from './distribution-api.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';
import type { SecurityServices } from './security.ts';

export class ActionLogApi {
  private readonly log: ActionLog;
  private readonly security: SecurityServices;
  constructor(log: ActionLog, security: SecurityServices) {
    this.log = log;
    this.security = security;
  }
  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    void request; void response; void path; void query; void this.log; void this.security;
    return null;
  }
}
