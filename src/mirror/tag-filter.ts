// Which remote tags a mirror follows: glob patterns (`*` any run of characters, `?` one),
// matched against the whole tag. Signature and attachment tags (`sha256-<hex>.sig`...) are
// never chosen by globs: they travel with the image they belong to.

export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

const ATTACHMENT_TAG = /^sha256-[0-9a-f]{64}(\.[a-z]+)?$/;

export function isAttachmentTag(tag: string): boolean {
  return ATTACHMENT_TAG.test(tag);
}

export function selectTags(tags: readonly string[], include: readonly string[], exclude: readonly string[]): string[] {
  const includes = (include.length === 0 ? ['*'] : include).map(globToRegExp);
  const excludes = exclude.map(globToRegExp);
  return tags.filter((tag) => !isAttachmentTag(tag) && includes.some((r) => r.test(tag)) && !excludes.some((r) => r.test(tag)));
}
