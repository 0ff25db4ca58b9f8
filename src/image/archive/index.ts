// Tar and the two archive image formats (oci-archive:, docker-archive:), as a library for
// the transports.
export * from './tar-reader.ts';
export * from './tar-writer.ts';
export * from './archive-contents.ts';
export * from './oci-archive.ts';
export * from './docker-archive.ts';
