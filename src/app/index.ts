// Library entry point for the composition root: a registry server, or its stores, built
// from configuration the way `custody serve` builds them.
export { startRegistry, type RunningRegistry } from './registry-server.ts';
export { openStores, type OpenedStores } from './open-stores.ts';
export { loadConfig, type Config } from '../config/config.ts';
