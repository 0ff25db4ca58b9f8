// Library entry point for embedding the registry's HTTP server. Stores and drivers come
// from the composition root (custody/app).
export { startServer, createRequestHandler, type ServerOptions, type RunningServer } from './http-server.ts';
export { loadConfig, type Config } from '../config/config.ts';
