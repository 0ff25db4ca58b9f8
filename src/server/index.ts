// Library entry point for embedding the registry's HTTP server. Opening stores from a
// configuration is the composition root's (src/app), which imports the server, never
// the reverse.
export { startServer, createRequestHandler, type ServerOptions, type RunningServer } from './http-server.ts';
export { loadConfig, type Config } from '../config/config.ts';
