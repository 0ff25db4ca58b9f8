// `custody serve`: the registry server.
import { describeSettings } from '../config/config.ts';
import { createLogger } from '../observability/logger.ts';
import { startRegistry } from '../app/registry-server.ts';
import { parseServerArgs } from './config-flags.ts';
import { VERSION } from '../core/version.ts';
import type { Command } from './main.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the registry (OCI Distribution API)',
  usage: [
    'Usage: custody serve [--config FILE] [options]',
    '',
    'Serves the OCI Distribution API. Settings come from the YAML file given by --config',
    '(or CUSTODY_CONFIG), then CUSTODY_* environment variables, then these flags:',
    '',
    describeSettings(),
  ].join('\n'),
  async run(args) {
    const { config } = parseServerArgs(args);
    const logger = createLogger(config.log.level);
    const server = await startRegistry(config, logger);
    logger.info('custody serving', {
      version: VERSION,
      url: server.url,
      database: config.database.driver,
      storage: config.storage.driver === 's3' ? `s3://${config.storage.s3.bucket}` : config.storage.path,
      tls: server.tls,
      auth: server.authenticated ? 'token' : 'disabled',
    });

    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          // A second Ctrl-C means "now"; a repeated SIGTERM changes nothing.
          if (signal === 'SIGINT') {
            logger.warn('forced exit', { signal });
            process.exit(130);
          }
          return;
        }
        stopping = true;
        logger.info('shutting down', { signal });
        void server
          .close()
          .then(
            () => {
              logger.info('stopped');
              resolve(0);
            },
            (error: unknown) => {
              logger.error('shutdown failed', { error });
              resolve(1);
            },
          );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
  },
};
