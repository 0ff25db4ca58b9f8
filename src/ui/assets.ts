// The catalog's static assets, served by Custody itself from the npm packages: PatternFly
// (only the parts the pages use, so a page and its critical assets stay small), one font,
// our own stylesheet and script. Names carry a content hash, so every asset is cached as
// immutable and a new release never meets a stale copy. Compressed once at start.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliCompress, brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';

export interface Asset {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
  /** Quick brotli at start, replaced by the best compression once the thread pool has made it. */
  brotli: Buffer | null;
  readonly gzip: Buffer | null;
}

/** PatternFly components the pages use (each `components/<Name>/<name>.css`). */
const PATTERNFLY_COMPONENTS = ['Masthead', 'Card', 'Table', 'Label', 'Button', 'Form', 'FormControl', 'Alert', 'Content', 'Title', 'EmptyState', 'Breadcrumb'];

const ASSET_PREFIX = '/-/assets/';

/**
 * The design tokens without the theme variants (dark, high contrast, felt, glass) the
 * pages never switch on: top-level blocks whose selector names a `pf-v6-theme-` class go.
 * Half the tokens' size, and CSS the browser need not parse before the first paint.
 */
export function withoutThemeVariants(css: string): string {
  let out = '';
  let depth = 0;
  let blockStart = 0;
  let selector = '';
  for (let i = 0; i < css.length; i++) {
    const character = css[i];
    if (character === '{') {
      if (depth === 0) selector = css.slice(blockStart, i);
      depth++;
    } else if (character === '}') {
      depth--;
      if (depth === 0) {
        if (!selector.includes('pf-v6-theme-')) out += css.slice(blockStart, i + 1);
        blockStart = i + 1;
      }
    }
  }
  return out + css.slice(blockStart);
}

function hashed(name: string, body: Buffer): string {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  const dot = name.lastIndexOf('.');
  return `${ASSET_PREFIX}${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

function compressible(contentType: string): boolean {
  return contentType.startsWith('text/') || contentType.includes('javascript') || contentType.includes('svg');
}

function makeAsset(name: string, contentType: string, body: Buffer): Asset {
  const compress = compressible(contentType);
  const asset: Asset = {
    path: hashed(name, body),
    contentType,
    body,
    // Quality 11 takes seconds for the stylesheet: start with a quick one (tens of ms) and
    // swap in the best when it is ready, off the event loop.
    brotli: compress ? brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }) : null,
    gzip: compress ? gzipSync(body, { level: 6 }) : null,
  };
  if (compress) {
    brotliCompress(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.byteLength } }, (error, best) => {
      if (!error) asset.brotli = best;
    });
  }
  return asset;
}

export class UiAssets {
  readonly stylesheet: Asset;
  readonly script: Asset;
  readonly font: Asset;
  private readonly byPath = new Map<string, Asset>();

  constructor() {
    const require = createRequire(import.meta.url);
    const patternfly = dirname(require.resolve('@patternfly/patternfly/package.json'));
    const read = (path: string): string => readFileSync(path, 'utf8');
    const own = (name: string): Buffer => readFileSync(join(import.meta.dirname, 'static', name));

    // One variable font (Red Hat Text); headings use it too and code the system's
    // monospace (custody.css), so one font file is all a page loads.
    this.font = makeAsset('RedHatTextVF.woff2', 'font/woff2', readFileSync(join(patternfly, 'assets/fonts/RedHatText/RedHatTextVF.woff2')));
    const base = read(join(patternfly, 'patternfly-base.css'));
    // The reset and globals come before the first @font-face; the icon fonts after it are not used.
    const reset = base.slice(0, base.indexOf('@font-face'));
    const fontFace = `@font-face{font-family:"Red Hat Text";font-style:normal;font-weight:400 700;src:url("${this.font.path}") format("woff2-variations");font-display:swap}\n`;
    const parts = [reset, withoutThemeVariants(read(join(patternfly, 'base/patternfly-variables.css'))), read(join(patternfly, 'base/patternfly-common.css')), fontFace];
    for (const component of PATTERNFLY_COMPONENTS) {
      const file = component.replace(/[A-Z]/g, (c, at: number) => (at === 0 ? '' : '-') + c.toLowerCase());
      parts.push(read(join(patternfly, 'components', component, `${file}.css`)));
    }
    parts.push(own('custody.css').toString('utf8'));
    this.stylesheet = makeAsset('custody.css', 'text/css; charset=utf-8', Buffer.from(parts.join('\n')));
    this.script = makeAsset('custody.js', 'text/javascript; charset=utf-8', own('custody.js'));
    for (const asset of [this.stylesheet, this.script, this.font]) this.byPath.set(asset.path, asset);
  }

  /** The asset at a request path, or undefined (also for a stale hash). */
  find(path: string): Asset | undefined {
    return this.byPath.get(path);
  }

  static isAssetPath(path: string): boolean {
    return path.startsWith(ASSET_PREFIX);
  }
}
