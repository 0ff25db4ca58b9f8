// The pure core: OCI types, digests, names and the error model. No I/O.
export * from './errors.ts';
export * from './digest.ts';
export * from './names.ts';
export * from './media-types.ts';
export * from './manifest.ts';
export * from './manifest-reader.ts';
