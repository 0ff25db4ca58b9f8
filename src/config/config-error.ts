// The error configuration loading throws, in a module of its own so the CLI can recognise
// it (instanceof) without loading the configuration code and its parsers.

/** Every problem found in the configuration: reported one per line, exit status 2. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
