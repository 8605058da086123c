/**
 * A browser's HTTP side without the browser: fetch with a cookie jar (by name and host,
 * which is how a browser separates a node and a provider on one loopback address only by
 * name, since cookies ignore ports) and redirects followed by hand, so a test sees each hop.
 */
export interface Hop {
  readonly url: string;
  readonly status: number;
  readonly location: string | null;
  readonly setCookies: readonly string[];
}

export class CookieAgent {
  readonly cookies = new Map<string, string>();

  private remember(response: Response): string[] {
    const set = response.headers.getSetCookie();
    for (const line of set) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = decodeURIComponent(pair.slice(eq + 1).trim());
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return set;
  }

  async fetch(url: string, init: RequestInit = {}): Promise<{ response: Response; hop: Hop }> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('; '));
    headers.set('accept', headers.get('accept') ?? 'text/html');
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    const setCookies = this.remember(response);
    return { response, hop: { url, status: response.status, location: response.headers.get('location'), setCookies } };
  }

  /** Follows redirects (a 303 or 302 after a POST becomes a GET); every hop, then the last answer's body. */
  async follow(url: string, init: RequestInit = {}): Promise<{ hops: Hop[]; url: string; status: number; body: string }> {
    const hops: Hop[] = [];
    let current = url;
    let options = init;
    for (let i = 0; i < 20; i++) {
      const { response, hop } = await this.fetch(current, options);
      hops.push(hop);
      if (hop.location === null || response.status < 300 || response.status >= 400) return { hops, url: current, status: response.status, body: await response.text() };
      await response.arrayBuffer();
      current = new URL(hop.location, current).href;
      options = {};
    }
    throw new Error(`too many redirects from ${url}`);
  }

  postForm(url: string, fields: Record<string, string>): Promise<{ hops: Hop[]; url: string; status: number; body: string }> {
    return this.follow(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }
}

/** The first form's action in a page, absolute; `&amp;` and the like undone. */
export function formAction(body: string, base: string, selector = /<form[^>]*action="([^"]*)"/): string {
  const match = selector.exec(body);
  if (!match) throw new Error(`no form in ${body.slice(0, 500)}`);
  return new URL(unescapeHtml(match[1]!), base).href;
}

export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, code: string) =>
    code[0] === '#' ? String.fromCodePoint(code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : Number(code.slice(1))) : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[code.toLowerCase()]!,
  );
}
