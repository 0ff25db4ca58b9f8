// The flags every server-side command shares: --config plus one flag per setting.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SETTINGS, flagName, loadConfig, type Config } from '../config/config.ts';

export function settingFlags(): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { config: { type: 'string', short: 'c' } };
  // proxy.upstream is the one repeatable flag: --proxy-upstream A=URL --proxy-upstream B=URL.
  for (const setting of SETTINGS) options[flagName(setting.path)] = setting.kind === 'upstream-list' ? { type: 'string', multiple: true } : { type: 'string' };
  return options;
}

/** Parses a command line of setting flags plus `extra` options; loads the configuration. */
export function parseServerArgs(
  args: string[],
  extra: NonNullable<ParseArgsConfig['options']> = {},
): { config: Config; values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const parsed = parseArgs({ args, options: { ...settingFlags(), ...extra }, allowPositionals: true, strict: true });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const flags: Record<string, string | boolean | readonly string[] | undefined> = {};
  for (const setting of SETTINGS) flags[flagName(setting.path)] = values[flagName(setting.path)];
  const config = loadConfig({ file: (values.config as string | undefined) ?? process.env.CUSTODY_CONFIG, env: process.env, flags });
  return { config, values, positionals: parsed.positionals };
}
