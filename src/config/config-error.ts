// Every problem found in the configuration (file, environment, flags), one line each.
// On its own, so the CLI can recognise it (`instanceof`) without loading the
// configuration code and its YAML parser, which client commands never need.
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
