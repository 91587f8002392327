// The pages' document head and Designsystemet's typography as preact components, shared by the server-rendered pages (Min
// profil's and the dev ID-porten's): one place for the classes and sizes they use alike.

import type { ComponentChildren, VNode } from 'preact';

/**
 * A page's <head>: UTF-8, the viewport, the referrer policy, the title, no icon to fetch (without
 * it the browser asks for /favicon.ico, which is no page), and the stylesheets in cascade order.
 */
export function DocumentHead({
  title,
  referrer,
  stylesheets,
}: {
  title: string;
  referrer: 'no-referrer' | 'same-origin';
  stylesheets: readonly string[];
}): VNode {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content={referrer} />
      <title>{title}</title>
      <link rel="icon" href="data:," />
      {stylesheets.map((href) => (
        <link rel="stylesheet" href={href} key={href} />
      ))}
    </head>
  );
}

export function Heading({ level = 1, children }: { level?: 1 | 2; children?: ComponentChildren }): VNode {
  return level === 1 ? (
    <h1 class="ds-heading" data-size="lg">
      {children}
    </h1>
  ) : (
    <h2 class="ds-heading" data-size="sm">
      {children}
    </h2>
  );
}

export function Paragraph({ children }: { children?: ComponentChildren }): VNode {
  return <p class="ds-paragraph">{children}</p>;
}
