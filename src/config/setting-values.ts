// Setting values as the configuration file, environment and flags give them, turned into
// what the settings table says each one is (sizes, durations, addresses...), or a problem.
import { resolve } from 'node:path';
import { parseSize } from '../core/size.ts';
import { LOG_LEVELS } from '../observability/logger.ts';
import type { Setting } from './settings.ts';

export function flatten(object: Record<string, unknown>, prefix: string, visit: (path: string, value: unknown) => void): void {
  for (const [key, value] of Object.entries(object)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value as Record<string, unknown>, path, visit);
    else visit(path, value);
  }
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

export function convert(setting: Setting, value: unknown): unknown {
  const text = typeof value === 'string' ? value.trim() : value;
  switch (setting.kind) {
    case 'string':
    case 'path':
      if (typeof text !== 'string' || text === '') return { problem: 'expected a non-empty string' };
      return text;
    case 'integer': {
      const number = typeof text === 'number' ? text : typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(number) || number < 0) return { problem: `expected a non-negative integer, got "${String(value)}"` };
      if ((setting.path === 'limits.maxPageSize' || setting.path === 'quality.maxEntries') && number < 1) return { problem: 'must be at least 1' };
      return number;
    }
    case 'size': {
      const bytes = typeof text === 'number' ? (Number.isSafeInteger(text) && text >= 0 ? text : null) : typeof text === 'string' ? parseSize(text) : null;
      if (bytes === null) return { problem: `expected a size in bytes, or with a unit such as 512MiB or 16GiB, got "${String(value)}"` };
      if (bytes < 1) return { problem: 'must be at least 1 byte' };
      return bytes;
    }
    case 'boolean':
      if (typeof text === 'boolean') return text;
      if (text === 'true' || text === '1' || text === 'yes') return true;
      if (text === 'false' || text === '0' || text === 'no') return false;
      return { problem: `expected true or false, got "${String(value)}"` };
    case 'duration': {
      const parsed = typeof text === 'string' ? parseDuration(text) : null;
      if (parsed === null) return { problem: `expected a duration such as 30s, 15m, 1h or 7d, got "${String(value)}"` };
      if (setting.path === 'quality.timeBudget' && parsed < 1) return { problem: 'must be longer than 0s' };
      if (setting.path === 'vulndb.updateInterval' && parsed < 1000) return { problem: 'must be at least 1s' };
      if (setting.path === 'limits.bodyIdleTimeout' && parsed < 100) return { problem: 'must be at least 100ms' };
      return parsed;
    }
    case 'upstreams':
    case 'upstream-list':
      // Checked as a whole by proxySettings, with the other proxy settings at hand.
      return value;
    case 'level':
      if (typeof text !== 'string' || !(LOG_LEVELS as readonly string[]).includes(text)) return { problem: `expected one of ${LOG_LEVELS.join(', ')}, got "${String(value)}"` };
      return text;
    case 'listen': {
      const listen = parseListen(String(text));
      if (!listen) return { problem: `expected host:port, :port or port with a port from 0 to 65535, got "${String(value)}"` };
      return listen;
    }
    case 'database': {
      if (typeof text !== 'string') return { problem: 'expected a URL' };
      if (/^postgres(ql)?:\/\//.test(text)) {
        try {
          new URL(text);
        } catch {
          return { problem: 'not a valid postgres:// URL' };
        }
        return { driver: 'postgres', url: text };
      }
      if (text.startsWith('sqlite:')) {
        const path = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
        if (path === '') return { problem: 'sqlite: needs a file path' };
        return { driver: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
      }
      return { problem: `expected postgres://... or sqlite:PATH, got "${text.replace(/:[^:@/]*@/, ':***@')}"` };
    }
  }
}

export function parseListen(value: string): { host: string; port: number } | null {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:]*):)?(\d{1,5})$/.exec(value);
  if (!match) return null;
  const port = Number(match[2]);
  if (port > 65535) return null;
  let host = match[1] ?? '';
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host: host === '' ? '0.0.0.0' : host, port };
}
