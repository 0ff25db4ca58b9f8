// Structured JSON logs, one object a line. Callers pass fields, never whole headers:
// nothing here knows which header carries a secret, so none is ever logged wholesale.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LogSink {
  write(line: string): unknown;
}

export function createLogger(level: LogLevel = 'info', sink: LogSink = process.stdout, base: Record<string, unknown> = {}): Logger {
  const threshold = LEVEL_RANK[level];
  const emit = (entryLevel: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LEVEL_RANK[entryLevel] < threshold) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: entryLevel, msg: message, ...base, ...fields };
    if (entry.error instanceof Error) entry.error = describeError(entry.error);
    sink.write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger(level, sink, { ...base, ...fields }),
    enabled: (candidate) => LEVEL_RANK[candidate] >= threshold,
  };
}

export const silentLogger: Logger = createLogger('error', { write: () => true });

function describeError(error: Error): Record<string, unknown> {
  return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
}
