// The package version: part of the build, like a constant, so the pure core may hold it.
// A JSON module import (no file reading here); the CLI, the server's OpenAPI document and
// trust's signature writers all name the same version.
import packageJson from '../../package.json' with { type: 'json' };

/** The package version, from package.json. */
export const VERSION: string = packageJson.version;
