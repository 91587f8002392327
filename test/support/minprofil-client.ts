// A browser as far as Min profil's pages need one, over real HTTP: cookies, manual redirects,
// form posts as the pages send them, the CSRF token, and the sign-in through the dev ID-porten
// (docs/minprofil.md#sign-in). For tests that need the wire (headers, statuses) rather than a
// rendered page; test/support/browser.ts drives a real Chromium.

import assert from 'node:assert/strict';

export interface Cookie {
  readonly value: string;
  /** The whole Set-Cookie header that set it. */
  readonly header: string;
}

/** A browser as far as these pages need one: cookies, manual redirects, forms. */
export class MinprofilClient {
  readonly cookies = new Map<string, Cookie>();
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, c]) => `${name}=${c.value}`).join('; ');
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(new URL(url, this.base), {
      ...init,
      redirect: 'manual',
      headers: { ...this.headers, cookie: this.cookieHeader(), ...(init.headers as Record<string, string>) },
    });
    for (const header of res.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (/max-age=0/i.test(header) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, header });
    }
    return res;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.fetch(url, { headers });
  }

  /** A form post as our own page sends it (Origin and Sec-Fetch-Site as a browser adds them). */
  post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.fetch(url, {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.base,
        'sec-fetch-site': 'same-origin',
        ...headers,
      },
    });
  }

  /** The CSRF token of a signed-in page. */
  async csrf(path = '/minprofil'): Promise<string> {
    const res = await this.get(path);
    assert.equal(res.status, 200, `GET ${path}`);
    const match = /name="_csrf" value="([^"]+)"/.exec(await res.text());
    assert.ok(match, 'the page has a CSRF token');
    return match[1]!;
  }

  /**
   * Signs in as `pid` through the dev ID-porten: Min profil's redirect, the stand-in's page and
   * form, the callback. Returns the authorization request Min profil made.
   */
  async signIn(pid: string, start = '/minprofil'): Promise<URL> {
    const first = await this.get(start);
    assert.equal(first.status, 303);
    const authorize = new URL(first.headers.get('location')!);
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${this.base}/idporten/authorize`);
    const page = await this.get(authorize.href);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Fødselsnummer/);
    const requestId = /name="request_id" value="([^"]+)"/.exec(html)![1]!;
    const picked = await this.post('/idporten/authorize', { request_id: requestId, pid });
    assert.equal(picked.status, 303);
    const callback = new URL(picked.headers.get('location')!);
    assert.equal(`${callback.origin}${callback.pathname}`, `${this.base}/minprofil/innlogget`);
    const back = await this.get(callback.href);
    assert.equal(back.status, 303, await back.clone().text());
    assert.equal(back.headers.get('location'), '/minprofil');
    assert.ok(this.cookies.has('minprofil_session'), 'a session cookie');
    return authorize;
  }
}
