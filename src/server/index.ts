// Library entry point for embedding the registry's HTTP server.
export { startServer, createRequestHandler, type ServerOptions, type RunningServer } from './http-server.ts';
export { loadConfig, type Config } from '../config/config.ts';
export { openStores } from '../cli/open-stores.ts';
