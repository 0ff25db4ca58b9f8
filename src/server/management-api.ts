// The management API over HTTP: /api/v1/ (except /api/v1/logs).
import type { ManagementService } from '../management/management-service.ts';
import type { SecurityServices } from './security.ts';
import type { RouteMatch } from './distribution-api.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';

export class ManagementApi {
  private readonly service: ManagementService;
  private readonly security: SecurityServices;

  constructor(service: ManagementService, security: SecurityServices) {
    this.service = service;
    this.security = security;
  }

  match(_request: HttpRequest, _response: HttpResponse, _path: string, _query: URLSearchParams): RouteMatch | null {
    void this.service;
    void this.security;
    return null;
  }
}
