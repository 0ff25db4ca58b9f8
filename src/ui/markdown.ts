// Repository descriptions in Markdown, rendered safely: marked parses, and our renderer
// escapes any raw HTML the author wrote (it shows as text), keeps links to http(s),
// mailto and this site, and turns images into links (no remote loads from a page).
import { Marked, type Tokens } from 'marked';
import { escapeHtml, safeUrl, trusted, type Html } from './html.ts';

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(token.text);
    },
    link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Link): string {
      const text = this.parser.parseInline(token.tokens);
      return `<a href="${escapeHtml(safeUrl(token.href))}" rel="nofollow noopener noreferrer">${text}</a>`;
    },
    image(token: Tokens.Image): string {
      return `<a href="${escapeHtml(safeUrl(token.href))}" rel="nofollow noopener noreferrer">${escapeHtml(token.text || token.href)}</a>`;
    },
  },
});

const MAX_SOURCE = 64 * 1024;

export function renderMarkdown(source: string): Html {
  return trusted(marked.parse(source.slice(0, MAX_SOURCE)) as string);
}
